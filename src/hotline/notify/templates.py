"""Chinese message templates: shipped defaults in ``data/templates.csv``, editable by admins.

``load_templates`` only inserts codes that are missing, so running ``hotline init`` again after an
upgrade adds new templates without undoing an admin's wording.
"""

from __future__ import annotations

import csv
import functools
import string
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.kit import clock
from hotline.kit.errors import Invalid, NotFound
from hotline.notify.models import MessageTemplate

DATA_DIR = Path(__file__).parent / "data"


def shipped_templates() -> list[dict[str, str]]:
    with open(DATA_DIR / "templates.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_templates(session: Session) -> int:
    """Insert the shipped templates whose code is not in the table yet; return how many."""
    existing = set(session.scalars(select(MessageTemplate.code)))
    added = 0
    for row in shipped_templates():
        if row["code"] in existing:
            continue
        session.add(MessageTemplate(code=row["code"], channel=row["channel"], subject=row["subject"],
                                    body=row["body"], updated_at=clock.now()))
        added += 1
    session.flush()
    invalidate()
    return added


def unpaired_brace(text: str) -> str:
    """Where a template's braces stop pairing up, in words: the character (counted from 1) and what
    it lacks. ``{{`` and ``}}`` are literal braces; a placeholder runs from ``{`` to the next ``}``."""
    i = 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i + 1:i + 2] == c:
            i += 2
            continue
        if c == "}":
            return f"第 {i + 1} 个字符「}}」前面没有对应的「{{」"
        if c == "{":
            end, inner = text.find("}", i + 1), text.find("{", i + 1)
            if end < 0:
                return f"第 {i + 1} 个字符「{{」（{text[i:i + 20]}）后面没有对应的「}}」"
            if 0 <= inner < end:
                return f"第 {i + 1} 个字符「{{」（{text[i:inner + 1]}）还没有用「}}」结束，又出现了「{{」"
            i = end + 1
            continue
        i += 1
    return "花括号的写法不对"


def placeholders(text: str, field: str = "") -> list[str]:
    """The ``{names}`` a template text uses; only plain names are allowed (no attributes or indexes).
    ``field`` (标题, 正文) names the text in a refusal."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError:
        raise Invalid(f"模板{field}格式错误：花括号不成对，{unpaired_brace(text)}（占位符写作 {{名称}}，"
                      f"字面花括号写作 {{{{ 或 }}}}）", code="invalid_template", details={"field": field}) from None
    for field in fields:
        if not field.isidentifier():
            raise Invalid(f"模板占位符 {{{field}}} 无效：只能使用字母、数字和下划线组成的名称",
                          details={"placeholder": field})
    return fields


def render_text(code: str, text: str, context: dict[str, Any]) -> str:
    for name in placeholders(text):
        if name not in context or context[name] is None:
            raise Invalid(f"消息模板 {code} 需要占位符 {{{name}}} 的值，但调用方没有提供",
                          code="template_placeholder_missing", details={"template": code, "placeholder": name})
    return text.format_map(context)


@functools.cache
def _shipped_by_code() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in shipped_templates()}


TTL_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, tuple[str, str] | None]] = {}


def invalidate() -> None:
    """Forget the cached texts (after an edit; other processes see it within ``TTL_SECONDS``)."""
    _cache.clear()


def stored(session: Session, code: str) -> tuple[str, str] | None:
    """The admin's ``(subject, body)`` for ``code``, cached per database for ``TTL_SECONDS``
    (every intake renders a receipt: the text should not cost a query each time)."""
    key = (str(session.get_bind().url), code)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < TTL_SECONDS:
        return hit[1]
    with session.no_autoflush:
        row = session.get(MessageTemplate, code)
    value = (row.subject, row.body) if row is not None else None
    _cache[key] = (time.monotonic(), value)
    return value


def render(session: Session, code: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render a template to ``(subject, body)``; a missing placeholder value raises ``Invalid``.

    The admin's wording when the table has it, else the shipped default: a database set up by
    migrations alone (no ``hotline init`` yet) still sends every message."""
    texts = stored(session, code)
    if texts is not None:
        subject, body = texts
    elif code in _shipped_by_code():
        subject, body = _shipped_by_code()[code]["subject"], _shipped_by_code()[code]["body"]
    else:
        raise NotFound(f"消息模板 {code} 不存在", details={"template": code})
    return render_text(code, subject, context), render_text(code, body, context)
