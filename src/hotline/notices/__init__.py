"""Notices: the messages a ticket's events owe to callers and unit staff, written to the outbox."""
