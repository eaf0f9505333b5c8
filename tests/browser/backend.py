"""What the browser tests do behind the page: customers writing in, the scheduling form storing requests."""

from __future__ import annotations

import time
import uuid
from typing import List

import requests

from supportdesk.messaging import outbox
from supportdesk.platform.database import Database
from supportdesk.scheduling import appointments
from tests.integration.service import RunningService, attendant_token, text_delivery


def customer_writes(service: RunningService, customer: str, text: str, name: str) -> str:
    """A signed text webhook from `customer`, as WhatsApp delivers it; returns its wamid."""
    wamid = f"wamid.TEST{uuid.uuid4().hex}"
    answer = service.post_webhook(text_delivery(customer, wamid, text, name=name))
    assert answer.status_code == 200, answer.text
    return wamid


def request_appointment(service: RunningService, customer: str, hours_ahead: int, what: str) -> int:
    """Store a request the way the scheduling form does (the stream tells the inbox); returns its id."""
    database = Database(service.env["DATABASE_URL"])
    try:
        starts_at = time.time() + hours_ahead * 3600
        request = appointments.create_request(database, customer, starts_at, f"in {hours_ahead} h", what, None)
    finally:
        database.close()
    return request.id


def queue_bot_messages(service: RunningService, customer: str, messages: list) -> None:
    """Queue bot messages the way a turn does; the service's outbox sender logs them for the simulator."""
    database = Database(service.env["DATABASE_URL"])
    try:
        batch = f"wamid.TEST{uuid.uuid4().hex}"
        drafts = [outbox.OutboxDraft(customer, message, "bot", answers_wamid=batch, seq=seq)
                  for seq, message in enumerate(messages)]
        with database.transaction() as cursor:
            outbox.enqueue(cursor, drafts, time.time())
    finally:
        database.close()


def history_ids(service: RunningService, customer: str) -> List[str]:
    """The ids of the conversation's messages, in the attendant API's order."""
    answer = service.api("GET", f"/conversations/{customer}/messages", attendant_token("ana"))
    assert answer.status_code == 200, answer.text
    return [message["id"] for message in answer.json()["messages"]]


def simulator_rows(service: RunningService, customer: str) -> List[int]:
    """The outbox ids the simulator may show for `customer`."""
    answer = requests.get(f"{service.url}/console/simulator/api/messages", params={"wa_id": customer, "after": 0}, timeout=15)
    assert answer.status_code == 200, answer.text
    return [row["id"] for row in answer.json()["messages"]]
