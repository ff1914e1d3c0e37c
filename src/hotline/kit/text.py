"""Checks of free text people type: names, notes, template texts."""

from __future__ import annotations

import unicodedata

from hotline.kit.errors import Invalid


def no_control_characters(text: str, label: str, field: str | None = None, *, lines: bool = False) -> str:
    """Refuses a control character (NUL, escape, a tab …; line breaks too unless ``lines``). Invisible
    on screen, it makes two names look alike and breaks what is copied from the page, and PostgreSQL
    refuses NUL in text outright: refused on every backend alike, naming the field."""
    allowed = "\n\r" if lines else ""
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        raise Invalid(f"{label}含有不可见的控制字符（U+{ord(bad):04X}），请删除后重新填写",
                      code="control_character", details={"field": field or label})
    return text
