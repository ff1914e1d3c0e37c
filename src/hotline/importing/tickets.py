"""工单导入: requests that arrived outside the console (a sack of letters typed into a sheet, another
system's day of tickets) registered from a CSV or XLSX file, each as if an agent had taken it.

Columns are found by their Chinese or English heading (:data:`COLUMNS`); 诉求内容, 发生地 and 事项分类
are required. 发生地 is named as people say it (resolved like the portal's field,
:mod:`hotline.classification.place_field`) or given as a region code; 事项分类 is a category's code
or its name; 诉求类型, 紧急程度 and 渠道 take their Chinese labels or codes (defaults: the
category's usual kind, 一般, 导入); 受理时间 keeps when the request really came in (not in the future),
written as Excel users in China write it (:data:`TIME_FORMATS`; a month-first 11/20/2026 is refused),
while the centre's deadlines (派单 first) count from the import: a letter received days ago does not
arrive overdue.

All or nothing: every row is registered in one transaction, and if any row is refused (its
spreadsheet row number and the reason are reported, all of them, not just the first) nothing is
kept. ``dry_run`` checks every row the same way and keeps nothing either.

Repeats: each imported ticket keeps its row's fingerprint (:func:`fingerprint`: content, place,
category, caller phone, 受理时间 and channel, normalised) in ``ticket_imports``, where it is unique. A
row whose fingerprint is recorded is refused as imported before, naming that ticket, with or without
a 受理时间, so a file imported twice is not registered twice; two imports of one file at the same
moment cannot both keep it (the database refuses the second, which is told the same). A row repeated
within one file is refused as a repeat of the first. Tickets imported before fingerprints were kept
(migration 0017) have none and are recognised only by the older rule, still applied: a row with a
受理时间 matching a ticket's 受理时间, place, content and channel is imported before.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.accounts.models import ROLE_LABELS, User
from hotline.classification.place_field import resolve_place
from hotline.directory import reference
from hotline.importing.models import TicketImport
from hotline.kit import clock
from hotline.kit.errors import DomainError, Invalid, PermissionDenied
from hotline.kit.tables import RowProblem, TableError, find_columns, read_rows
from hotline.tickets import lifecycle, validation
from hotline.tickets.models import Channel, Ticket
from hotline.tickets.policy import ACTION_ROLES
from hotline.tickets.views import CHANNEL_LABELS, KIND_LABELS, URGENCY_LABELS

__all__ = ["COLUMNS", "ImportResult", "RowProblem", "fingerprint", "import_file"]

# field -> the headings that name it (compared without spaces, case-insensitively)
COLUMNS: dict[str, tuple[str, ...]] = {
    "content": ("诉求内容", "内容", "content"),
    "region": ("发生地", "诉求发生地", "地点", "region", "region_code"),
    "category": ("事项分类", "分类", "category", "category_code"),
    "kind": ("诉求类型", "类型", "kind"),
    "urgency": ("紧急程度", "urgency"),
    "channel": ("渠道", "来源渠道", "channel"),
    "received_at": ("受理时间", "来电时间", "received_at"),
    "title": ("标题", "title"),
    "address": ("详细地址", "地址", "address"),
    "caller_name": ("来电人", "姓名", "caller_name"),
    "caller_phone": ("联系电话", "电话", "caller_phone"),
}
REQUIRED = ("content", "region", "category")
MAX_ROWS = 5000  # rows one file may hold (larger batches: split the file)


@dataclass
class ImportResult:
    numbers: list[str] = field(default_factory=list)  # the tickets registered, in file order
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0  # data rows read (blank rows skipped)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _columns(header: list[str]) -> dict[str, int]:
    return find_columns(header, COLUMNS, REQUIRED, "诉求内容、发生地、事项分类")


def _choice(value: str, labels: dict[str, str], what: str, default: str) -> str:
    if not value:
        return default
    if value in labels:
        return value
    by_label = {label: code for code, label in labels.items()}
    if value in by_label:
        return by_label[value]
    raise Invalid(f"{what}「{value}」无效，可填：{'、'.join(labels.values())}")


def _category(snap: reference.Snapshot, value: str) -> str:
    """The category a row names by code or name: an active one of that name, else a stopped one is
    refused as 已停用 (as by its code), not as missing."""
    if value in snap.categories:
        return value
    named = [code for code, c in snap.categories.items() if c.name == value]
    active = [code for code in named if snap.categories[code].active]
    if len(active) == 1:
        return active[0]
    if active:
        raise Invalid(f"事项分类「{value}」有 {len(active)} 个同名分类，请填写分类编码")
    if named:
        validation.check_category(snap, named[0])  # 事项分类 0105「二次供水」已停用
    raise Invalid(f"没有事项分类「{value}」（填写分类名称或编码）")


# How 受理时间 may be written: ISO (2026-11-20 09:30), and as Excel users in China type it — one-digit
# months, days and hours, slashes or dots, 年月日 with 9:30 or 9时30分 — or an Excel date number.
TIME_FORMATS = "2026-11-20 09:30、2026/11/20 9:30、2026年11月20日 9时30分、2026年11月20日（或 Excel 日期单元格）"
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_CLOCK = re.compile(r"(\d{1,2})\s*[:：]\s*(\d{1,2})(?:\s*[:：]\s*(\d{1,2})(?:\.\d+)?)?"
                    r"|(\d{1,2})\s*[时点]\s*(?:(\d{1,2})\s*分?\s*(?:(\d{1,2})\s*秒)?)?")
_MONTH_FIRST = re.compile(r"\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{4}(\D.*)?")
_SERIAL = re.compile(r"\d{5}(\.\d+)?")  # an Excel date number (days since 1899-12-30): 1927 to 2173
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _typed_time(text: str) -> datetime:
    """The moment ``text`` writes (naive: local time, unless ISO with an offset), or ``ValueError``."""
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text)
    if _SERIAL.fullmatch(text):
        return _EXCEL_EPOCH + timedelta(seconds=round(float(text) * 86400))  # to the second
    day = _DATE.match(text)
    if day is None:
        raise ValueError(text)
    rest = text[day.end():].lstrip(" \tT")
    hour = minute = second = 0
    if rest:
        at = _CLOCK.fullmatch(rest.rstrip())
        if at is None:
            raise ValueError(text)
        h, m, sec = (at.group(1), at.group(2), at.group(3)) if at.group(1) else (at.group(4), at.group(5), at.group(6))
        hour, minute, second = int(h), int(m or 0), int(sec or 0)
    return datetime(int(day.group(1)), int(day.group(2)), int(day.group(3)), hour, minute, second)


def _received(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    if _MONTH_FIRST.fullmatch(value):  # 11/20/2026 or 20/11/2026: which is the month cannot be told
        raise Invalid(f"受理时间「{value}」无法确定哪一位是月份：请按 年-月-日 填写，可用格式：{TIME_FORMATS}")
    try:
        typed = _typed_time(value)
        if typed.date() < validation.EARLIEST_RECEIVED:  # as written: a year-1 time cannot even be converted
            raise Invalid(f"受理时间不能早于 {validation.EARLIEST_RECEIVED}：「{value}」")
        moment = clock.aware(typed)
    except (ValueError, OverflowError):
        raise Invalid(f"受理时间「{value}」无效，可用格式：{TIME_FORMATS}") from None
    if moment > now:
        raise Invalid(f"受理时间「{value}」晚于当前时间")
    return moment


def _fields(snap: reference.Snapshot, cells: dict[str, str], now: datetime) -> dict[str, Any]:
    """One row's registration arguments, or ``Invalid`` with the reason."""
    place = resolve_place(snap, cells["region"][:60]) if cells.get("region") else None
    if place is None or place.code is None:
        options = place.choices if place else ""
        raise Invalid(f"发生地：{place.problem if place else '不能为空'}" + (f"（可选：{options}）" if options else ""))
    category = _category(snap, cells["category"])
    usual = snap.categories[category].default_kind
    return {
        "content": cells.get("content", ""),
        "region_code": place.code,
        "category_code": category,
        "kind": _choice(cells.get("kind", ""), KIND_LABELS, "诉求类型", str(getattr(usual, "value", usual) or "help")),
        "urgency": _choice(cells.get("urgency", ""), URGENCY_LABELS, "紧急程度", "normal"),
        "channel": _choice(cells.get("channel", ""), CHANNEL_LABELS, "渠道", Channel.import_.value),
        "received_at": _received(cells.get("received_at", ""), now),
        "title": cells.get("title") or None,
        "address": cells.get("address") or None,
        "caller_name": cells.get("caller_name") or None,
        "caller_phone": cells.get("caller_phone") or None,
        "caller_anonymous": not (cells.get("caller_name") or cells.get("caller_phone")),
    }


def fingerprint(fields: dict[str, Any]) -> str:
    """The row as the request it names: content (whitespace collapsed), the resolved place and
    category, the caller's phone (E.164), 受理时间 (UTC, empty when not given) and channel, hashed.
    Spellings of one place or phone give one fingerprint; another word of content or another phone
    gives another."""
    received = fields["received_at"]
    parts = (" ".join(fields["content"].split()), fields["region_code"], fields["category_code"],
             validation.normalize_phone(fields["caller_phone"]) or "",
             received.astimezone(UTC).isoformat() if received else "", fields["channel"])
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _recorded(session: Session, mark: str) -> str | None:
    """The number of the ticket imported from a row with this fingerprint, if any."""
    return session.scalar(select(Ticket.number).join(TicketImport, TicketImport.ticket_id == Ticket.id)
                          .where(TicketImport.fingerprint == mark))


def _imported_before(number: str) -> Invalid:
    return Invalid(f"已导入过：与工单 {number} 的内容、发生地、分类、电话、受理时间和渠道相同，不再重复登记",
                   code="imported_before")


def _not_imported_before(session: Session, fields: dict[str, Any], mark: str) -> None:
    """Refuse a row the platform already has: one whose fingerprint is recorded or, for tickets
    imported before fingerprints were kept, one with the same 受理时间, place, content and channel."""
    same = _recorded(session, mark)
    if same is not None:
        raise _imported_before(same)
    if fields["received_at"] is None:
        return
    same = session.scalar(select(Ticket.number).where(
        Ticket.region_code == fields["region_code"], Ticket.received_at == fields["received_at"],
        Ticket.channel == Channel(fields["channel"]), Ticket.content == fields["content"].strip()).limit(1))
    if same is not None:
        raise Invalid(f"已导入过：与工单 {same} 的受理时间、发生地、内容和渠道相同", code="imported_before")


@contextlib.contextmanager
def _savepoint(session: Session) -> Iterator[None]:
    """``begin_nested``, and on failure forget what it wrote. Rolling back the savepoint removes the
    rows from the database, but rows written by a Core INSERT (``kit.db.insert_now``, as a ticket and
    its first event are) stay in the session's identity map, where the next row would meet them again
    under the same id (SQLite reuses the ids of rolled-back rows)."""
    made: list[object] = []

    def note(_session: Session, instance: object) -> None:
        made.append(instance)

    hooks = ("detached_to_persistent", "pending_to_persistent")
    for hook in hooks:
        event.listen(session, hook, note)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        for instance in made:
            if instance in session:
                session.expunge(instance)
        raise
    finally:
        for hook in hooks:
            event.remove(session, hook, note)


def _register(session: Session, fields: dict[str, Any], *, actor: User, mark: str, row: int, now: datetime) -> Ticket:
    """Register one row with its fingerprint; a refused row leaves nothing behind, the others go on.
    A fingerprint recorded meanwhile by another import (committed after this one looked) fails
    the unique constraint here and is refused like any row imported before."""
    try:
        with _savepoint(session):
            # 受理时间 stays the citizen's date; the centre's deadlines start now, as the ticket enters.
            ticket: Ticket = lifecycle.register(session, actor=actor, deadlines_from=now, **fields)
            session.add(TicketImport(ticket_id=ticket.id, fingerprint=mark, row=row, imported_at=now,
                                     imported_by_id=actor.id))
            session.flush()
    except IntegrityError:
        same = _recorded(session, mark)
        if same is None:
            raise
        raise _imported_before(same) from None
    return ticket


def import_file(session: Session, path: Path | str, *, actor: User, dry_run: bool = False) -> ImportResult:
    """Register every row of ``path`` as a ticket by ``actor`` in ``session``; the caller commits
    when ``result.ok`` and not ``dry_run``, and rolls back otherwise (nothing half-imported). An
    account whose role may not register tickets is refused once, before the file is read."""
    if actor.role not in ACTION_ROLES["register"]:
        raise PermissionDenied(f"用户 {actor.username}（{ROLE_LABELS[actor.role]}）无权登记工单",
                               code="role_cannot_register")
    try:
        header, rows = read_rows(path)
    except TableError as err:
        raise Invalid(err.message, code="unreadable_file") from None
    if not header:
        raise Invalid("文件是空的：第一行须为列名（诉求内容、发生地、事项分类 …）", code="empty_file")
    where = _columns(header)
    result = ImportResult(dry_run=dry_run)
    snap, now = reference.snapshot(session), clock.now()
    data = [(i + 2, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if len(data) > MAX_ROWS:
        raise Invalid(f"一次最多导入 {MAX_ROWS} 行，本文件 {len(data)} 行：请分成几个文件", code="too_many_rows")
    if not data:
        raise Invalid("文件只有列名，没有数据行", code="no_rows")
    result.rows = len(data)
    first: dict[str, int] = {}  # fingerprint -> the row of this file registered with it
    for number, row in data:
        cells = {key: (row[i].strip() if i < len(row) else "") for key, i in where.items()}
        try:
            fields = _fields(snap, cells, now)
            mark = fingerprint(fields)
            if mark in first:
                raise Invalid(f"与第 {first[mark]} 行重复（同一文件中的同一诉求）：删去其中一行后重新导入",
                              code="repeated_row")
            _not_imported_before(session, fields, mark)
            ticket = _register(session, fields, actor=actor, mark=mark, row=number, now=now)
            first[mark] = number
            result.numbers.append(ticket.number)
        except DomainError as err:
            result.problems.append(RowProblem(number, err.message))
    return result
