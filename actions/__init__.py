"""Custom actions served by the rasa-sdk action server (`rasa run actions --actions actions`)."""

from supportdesk.platform.settings import get_settings
from supportdesk.platform.structured_logging import configure_logging

configure_logging(get_settings().log_level, get_settings().log_format)
