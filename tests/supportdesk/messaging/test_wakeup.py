"""Wake-ups between processes: a Unix datagram socket per listener on SQLite, NOTIFY on PostgreSQL."""

from __future__ import annotations

import asyncio
import os

from supportdesk.messaging import wakeup
from supportdesk.platform.database import Database


async def wait_for(event: asyncio.Event) -> bool:
    await asyncio.wait_for(event.wait(), 10)
    return True


async def test_a_signal_reaches_every_listener_of_its_topic_only(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wake.db'}")
    signals, sender = wakeup.WakeSignals(database), wakeup.WakeSignals(database)
    first, second, other = asyncio.Event(), asyncio.Event(), asyncio.Event()
    listeners = [
        await signals.listen(wakeup.INBOX, first.set),
        await signals.listen(wakeup.INBOX, second.set),
        await signals.listen(wakeup.OUTBOX, other.set),
    ]
    sender.notify(wakeup.INBOX)
    assert await wait_for(first) and await wait_for(second)
    assert other.is_set() is False
    await wakeup.listeners_closed(listeners)
    assert os.listdir(tmp_path / "wake.db.wake") == []
    sender.close()


async def test_a_socket_whose_process_is_gone_is_removed_and_notify_never_raises(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wake.db'}")
    directory = tmp_path / "wake.db.wake"
    directory.mkdir()
    (directory / "inbox-999999-dead00.sock").write_text("")  # not a socket: a crashed listener's leftover
    signals = wakeup.WakeSignals(database)
    signals.notify(wakeup.INBOX)
    assert os.listdir(directory) == []
    wakeup.WakeSignals(Database(f"sqlite:///{tmp_path / 'never' / 'x.db'}")).notify(wakeup.INBOX)
    signals.close()


async def test_postgres_notify_reaches_a_listener(postgres_url):
    database = Database(postgres_url)
    signals = wakeup.WakeSignals(database)
    woken = asyncio.Event()
    listener = await signals.listen(wakeup.INBOX, woken.set)
    assert await wait_for(woken)  # once when it (re)connects: messages stored meanwhile
    woken.clear()
    signals.notify(wakeup.INBOX)
    assert await wait_for(woken)
    await listener.close()
    database.close()
