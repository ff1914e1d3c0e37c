"""Telephone numbers as people type them, checked with ``phonenumbers`` (China by default): the one
check behind every phone field (callers, farmers, staff, units), so "abc" is never an SMS recipient."""

from __future__ import annotations

import phonenumbers
from phonenumbers import shortnumberinfo

from hotline.kit.errors import Invalid


def parse(raw: str, *, field: str, service_numbers: bool = False) -> phonenumbers.PhoneNumber:
    """A Chinese mobile or landline number, or ``Invalid`` naming ``field``. ``service_numbers`` also
    admits short numbers such as 12345 or 95598 (a unit's public line, never a person's)."""
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise Invalid(f"电话号码「{text}」无法识别", code="invalid_phone", details={"field": field}) from None
    if phonenumbers.is_valid_number(number) or (service_numbers and shortnumberinfo.is_valid_short_number(number)):
        return number
    raise Invalid(f"电话号码「{text}」不是有效号码", code="invalid_phone", details={"field": field})


def checked(raw: str | None, *, field: str, service_numbers: bool = False) -> str | None:
    """The number as typed (trimmed) once it is a valid one; None when left blank."""
    if raw is None or not raw.strip():
        return None
    parse(raw, field=field, service_numbers=service_numbers)
    return raw.strip()
