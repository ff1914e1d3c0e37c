"""Field-work refusals, as the platform's domain errors (kit.errors) with their own codes, so the
edges map them as everywhere: 404, 403, 409, 422."""

from __future__ import annotations

from hotline.kit.errors import Conflict, Invalid, NotFound, TransitionNotAllowed

__all__ = ["Busy", "Duplicate", "Invalid", "NotFound", "OperationClosed", "TransitionNotAllowed", "invalid"]


class Busy(Conflict):
    """A machine or volunteer already on an unfinished task, or a machine under repair."""

    code = "resource_busy"


class Duplicate(Conflict):
    """What is being registered is already there: an open operation of the same name in the
    township, or the same machine (kind, model, owner and phone) in its register."""

    code = "duplicate"


class OperationClosed(Conflict):
    code = "operation_closed"


def invalid(message: str, field: str, code: str = "invalid") -> Invalid:
    return Invalid(message, code=code, details={"field": field})
