"""One clock for the whole platform, movable by tests and by the demo generator.

Times are timezone-aware UTC inside the system; ``local()`` converts for numbering and display.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
_tz = ZoneInfo("Asia/Shanghai")


def set_timezone(name: str) -> None:
    global _tz
    _tz = ZoneInfo(name)


def tz() -> ZoneInfo:
    return _tz


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def local(dt: datetime | None = None) -> datetime:
    return (dt or now()).astimezone(_tz)


def aware(dt: datetime) -> datetime:
    """Interpret a naive datetime as local time; convert an aware one to UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_tz)
    return dt.astimezone(UTC)


def freeze(at: datetime | None) -> None:
    global _frozen
    _frozen = aware(at) if at is not None else None


def advance(delta: timedelta) -> datetime:
    global _frozen
    _frozen = (_frozen or datetime.now(UTC)) + delta
    return _frozen


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    previous = _frozen
    freeze(at)
    try:
        yield
    finally:
        globals()["_frozen"] = previous
