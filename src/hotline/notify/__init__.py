"""Notifications: an outbox written in the caller's transaction, templates, drivers and delivery."""
