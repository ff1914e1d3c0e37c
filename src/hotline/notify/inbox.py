"""A staff member's in-app inbox (站内信): read by the API's ``/inbox`` and the page ``/messages``."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.errors import NotFound
from hotline.notify.models import InboxItem

MAX_ID = 2**31 - 1


def listing(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 100) -> list[InboxItem]:
    """The user's messages: unread first, then the newest."""
    query = select(InboxItem).where(InboxItem.user_id == user_id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    query = query.order_by(InboxItem.read_at.is_not(None), InboxItem.created_at.desc(), InboxItem.id.desc())
    return list(session.scalars(query.limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(InboxItem.user_id == user_id,
                                                     InboxItem.read_at.is_(None))) or 0


def own(session: Session, user_id: int, item_id: int) -> InboxItem:
    """One of the user's messages; another's is as unknown as a missing one."""
    item = session.get(InboxItem, item_id) if 0 < item_id <= MAX_ID else None
    if item is None or item.user_id != user_id:
        raise NotFound(f"消息 {item_id} 不存在")
    return item


def mark_read(session: Session, user_id: int, item_id: int) -> InboxItem:
    item = own(session, user_id, item_id)
    if item.read_at is None:
        item.read_at = clock.now()
        session.flush()
    return item


def mark_all_read(session: Session, user_id: int) -> int:
    """How many were marked."""
    result = session.execute(update(InboxItem).where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))
                             .values(read_at=clock.now()))
    return result.rowcount
