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


def span_text(span: timedelta) -> str:
    """A length of time as people say it, never rounded to a coarser unit under a day (1 h 59 m is
    not '1 小时'): '20 分钟' (under one hour, at least 1 minute), '1 小时 59 分' or '5 小时' (under a
    day), '2 天 3 小时' or '2 天' (a day or more); the sign is ignored."""
    minutes = int(abs(span).total_seconds() // 60)
    hours, days = minutes // 60, minutes // 1440
    if days >= 1:
        return f"{days} 天 {hours - days * 24} 小时" if hours % 24 else f"{days} 天"
    if hours >= 1:
        return f"{hours} 小时 {minutes % 60} 分" if minutes % 60 else f"{hours} 小时"
    return f"{max(minutes, 1)} 分钟"


def deadline_text(at: datetime, *, words: bool = False, gap: str = "") -> str:
    """A deadline as people read it, in local time: '12-02 17:00', or with ``words`` '12月2日17:00'
    (``gap`` between the day and the time). A deadline at exactly midnight is the end of the day
    before ('12-02 24:00', not '12-03 00:00'); the year is shown when it is not this year's
    ('2027-01-28 17:00', '2027年1月28日17:00')."""
    t = local(at)
    hour = f"{t:%H:%M}"
    if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0):
        t, hour = t - timedelta(days=1), "24:00"
    other_year = t.year != local().year
    if words:
        return f"{f'{t.year}年' if other_year else ''}{t.month}月{t.day}日{gap}{hour}"
    return f"{t:%Y-%m-%d} {hour}" if other_year else f"{t:%m-%d} {hour}"
