"""Messages in and out: the durable inbox, dialogue turns, the outbox and its sender, history and stream."""
