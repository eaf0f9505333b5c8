"""Handing a conversation to a person: the state machine, claims, replies, release and timers."""
