"""Connects the follow-up work of the upper layers to the ticket timeline.

``tickets`` knows nothing of SMS or callback queues; every entry point (web app, CLI, worker)
calls ``install()`` once, which makes the notices and the callback tasks listen to ticket events
in the same transaction as the change that caused them.
"""

from __future__ import annotations

from hotline.tickets import timeline


def install() -> None:
    from hotline.callbacks import events as callback_events
    from hotline.notices import events as notice_events

    timeline.listen(notice_events.on_event)
    timeline.listen(callback_events.on_event)
