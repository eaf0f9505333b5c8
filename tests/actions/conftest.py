"""Action tests speak for a customer who wrote, as every real turn does (actions check it in the database)."""

import pytest

from supportdesk.messaging.inbox import store_delivery
from supportdesk.runtime import get_runtime
from supportdesk.whatsapp.payload import parse_webhook
from tests.integration.service import text_delivery

CUSTOMER = "447700900123"  # the sender of the trackers in these tests


def customer_wrote(customer: str = CUSTOMER, text: str = "hi") -> None:
    """Store one inbound message from `customer` (no profile name), as the webhook would before the turn."""
    database = get_runtime().database
    store_delivery(database, parse_webhook(text_delivery(customer, f"wamid.TEST{customer}", text, name=None)))


@pytest.fixture(autouse=True)
def known_customer() -> None:
    """The trackers' customer has a stored message."""
    customer_wrote()
