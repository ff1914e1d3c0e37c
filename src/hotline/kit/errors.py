"""Domain errors. Each carries a stable code and a message a person can act on.

The edges map them: NotFound → 404, PermissionDenied → 403, TransitionNotAllowed and
Conflict → 409, Invalid → 422.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401


class Invalid(DomainError):
    code = "invalid"
    http_status = 422


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    http_status = 409


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class HolidayDataMissing(DomainError):
    """A deadline needs a year for which no holiday table has been entered."""

    code = "holiday_data_missing"
    http_status = 422

    def __init__(self, year: int):
        super().__init__(
            f"{year}年的节假日数据尚未录入，无法按工作日计算时限；请管理员在节假日表中录入{year}年的放假与调休安排",
            details={"year": year},
        )
        self.year = year
