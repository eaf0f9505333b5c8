"""Rasa input/output channels: WhatsApp Cloud API, the attendant API, health probes."""

from supportdesk.platform.settings import get_settings
from supportdesk.platform.structured_logging import configure_logging

configure_logging(get_settings().log_level, get_settings().log_format)
