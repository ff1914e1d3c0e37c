"""Request and response bodies of the JSON API (they are what OpenAPI documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from hotline.tickets.models import Channel, Satisfaction, UnitRole, UnitTaskStatus, Urgency
from hotline.tickets.states import Status

# Times and days in responses are the strings the views write (ISO 8601, local time with its offset),
# documented with their format; they are not re-parsed, so the JSON stays exactly as written.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]

# A value outside a documented range or list: the refusals ``own_words`` words itself.
_OUT_OF_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal", "literal_error",
                            "enum"})


def own_words(message: str, code: str) -> WrapValidator:
    """A limit stated in the document (``ge``/``le``, a ``Literal``) that refuses a value in the words
    the server used before the limit was in the model (``督办时限须为 1–30 个工作日``); ``{value}`` in
    the message is the value sent. Other mistakes (not a number at all) keep their usual message."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if exc.errors() and all(e["type"] in _OUT_OF_BOUNDS for e in exc.errors()):
                raise PydanticCustomError(code, message, {"value": value}) from None
            raise

    return WrapValidator(check)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold NUL characters: refuse them on every backend alike."""
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_character", "不能包含空字符（\\u0000）")
        return value


class AttachmentIn(Body):
    filename: str = Field(max_length=200)
    content_type: str | None = Field(default=None, max_length=100)
    size: int = Field(ge=0)
    sha256: str | None = Field(default=None, max_length=64)
    url: str | None = Field(default=None, max_length=500)


class TicketCreate(Body):
    """受理: everything an agent records about a request."""

    channel: Literal["phone", "web", "mobile", "letter", "open311", "system", "import"] = "phone"
    kind: str = Field(description="consultation | help | complaint | report | suggestion | praise")
    category_code: str = Field(max_length=12, description="事项分类编码, e.g. 0103")
    urgency: str = Field(default="normal", description="normal | urgent | emergency")
    region_code: str = Field(max_length=12, description="行政区划代码 down to village, e.g. 140828102207")
    title: str | None = None
    content: str
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_confidential: bool = False
    caller_anonymous: bool = False
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    received_at: datetime | None = Field(default=None, description="when the call came in; default now")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class Versioned(Body):
    version: int | None = Field(default=None, ge=1, description="the ticket version you saw (versions start at 1); "
                                                                 "a mismatch is a 409")


class DispatchIn(Versioned):
    lead_unit_id: int | None = Field(default=None, description="omit to use the dispatch catalogue's suggestion")
    co_unit_ids: list[int] | None = None
    note: str | None = None


class NoteIn(Versioned):
    note: str | None = None


class ReasonIn(Versioned):
    reason: str


class OptionalReasonIn(Versioned):
    reason: str | None = None


class AnswerIn(Versioned):
    answer: str


class HandOffIn(Versioned):
    to: Literal["110", "119", "120", "122"]
    note: str | None = None


class UnitActionIn(Versioned):
    unit_id: int | None = Field(default=None, description="admins acting for a given unit; handlers act for their own")


class ReplyIn(UnitActionIn):
    text: str


class ExtensionIn(Versioned):
    amount: int = Field(ge=1, le=720)
    unit: Literal["hours", "days", "working_days"] = "working_days"
    reason: str


class ApproveExtensionIn(Versioned):
    amount: int | None = Field(default=None, ge=1, le=720)
    note: str | None = None


class CallbackIn(Versioned):
    reached: bool
    resolved: bool | None = None
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = None
    comment: str | None = None


class MergeIn(Versioned):
    master: str = Field(description="id or number of the master ticket")
    note: str | None = None


# ---------------------------------------------------------------- responses
#
# Each response body is the dict a view writes, documented key by key. ``Out`` lets a key the model
# does not name pass through unchanged (a response is never cut down by its model), but leaves it
# out of the document: tests/api validate every answer the test suite gets against /openapi.json
# and refuse any key the document does not list, so the two cannot drift apart unnoticed.


def _closed(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


def _open(schema: dict[str, Any]) -> None:
    schema["additionalProperties"] = True


class Out(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=_closed)


class OpenOut(Out):
    """A response object that may carry keys beyond those listed (stored JSON)."""

    model_config = ConfigDict(json_schema_extra=_open)


# A JSON number that may be whole: kept as written (a ``float`` field would turn 3 into 3.0).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


class Ref(Out):
    """A coded thing and its name (a region, a category): the name is null when the code is unknown."""

    code: str
    name: str | None


class UnitRef(Out):
    id: int
    code: str = Field(description="the unit's code ('?' for a unit no longer in the directory)")
    name: str


class CallerOut(Out):
    name: str | None = Field(description="null when the caller is anonymous or hidden from you")
    phone: str | None = Field(description="null when hidden from you")
    confidential: bool
    anonymous: bool
    visible: bool = Field(description="whether you may see the caller's name and phone")


class TicketSummaryOut(Out):
    id: int
    number: str = Field(description="工单号, e.g. 20261129-000045")
    version: int = Field(description="send it back with an action; a mismatch is a 409")
    status: Status
    status_label: str = Field(description="the status in Chinese")
    channel: Channel
    kind: str = Field(description="consultation | help | complaint | report | suggestion | praise")
    kind_label: str
    urgency: Urgency
    category: Ref
    region: Ref
    title: str
    received_at: Timestamp
    lead_unit: UnitRef | None
    overdue_stages: list[str] = Field(description="dispatch, accept, contact or reply: stages past their deadline")
    caller: CallerOut


class TicketUnitOut(UnitRef):
    role: UnitRole = Field(description="lead (主办) or co (协办)")
    status: UnitTaskStatus
    dispatched_at: Timestamp
    accepted_at: Timestamp | None
    replied_at: Timestamp | None
    reply_text: str | None


# The time limit a deadline was counted from, and what moved it since (stored JSON, passed on as is).
DeadlineBasis = Annotated[dict[str, Any], WithJsonSchema({
    "type": "object", "additionalProperties": True,
    "description": "the time limit the deadline was counted from, and what moved it since",
    "properties": {
        "amount": {"type": "integer"}, "unit": {"type": "string", "description": "hours, days or working_days"},
        "from": {"type": "string", "format": "date-time", "description": "when the clock started"},
        "provisional": {"type": "boolean", "description": "counted without the year's holiday table"},
        "extensions": {"type": "array", "items": {}, "description": "approved extensions"},
        "pauses": {"type": "array", "items": {}, "description": "suspensions"},
    }})]


class StageDeadline(Out):
    due_at: Timestamp | None
    state: str = Field(description="not_started, running, overdue, paused, review (a return waits for the centre's review: no clock runs), met, met_late or stopped")
    done_at: Timestamp | None
    limit: DeadlineBasis | None


class MergedTicket(Out):
    id: int
    number: str
    title: str


class CallbackResult(Out):
    attempts: int
    at: Timestamp | None
    resolved: bool | None
    satisfaction: Satisfaction | None
    satisfaction_label: str | None
    comment: str | None


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str | None
    url: str | None


class TicketOut(TicketSummaryOut):
    content: str
    address: str | None
    latitude: Number | None
    longitude: Number | None
    query_code: str | None = Field(description="the caller's 查询码; null for those who may not see it")
    units: list[TicketUnitOut]
    deadlines: dict[str, StageDeadline] = Field(description="by stage: dispatch, accept, contact, reply")
    due_warning: str | None
    suspended_seconds: int
    extension_count: int
    dispatch_count: int
    reopen_count: int
    master_id: int | None = Field(description="the ticket this one was merged into")
    merged_tickets: list[MergedTicket] = Field(description="tickets merged into this one")
    reply_text: str | None
    direct_answer: str | None
    handoff_to: str | None
    refusal_reason: str | None
    callback: CallbackResult
    closed_at: Timestamp | None
    close_reason: str | None
    archived_at: Timestamp | None
    assessment_exclusion: str | None = Field(description="invalid or malicious: left out of the assessment")
    updated_at: Timestamp
    attachments: list[AttachmentOut]
    allowed_actions: list[str] = Field(description="the actions the ticket's status allows (your role may still be refused)")


class TicketPage(Out):
    items: list[TicketSummaryOut]
    total: int = Field(description="tickets matching the filters, on every page")
    page: int
    per_page: int


class EventOut(Out):
    id: int
    at: Timestamp
    action: str
    action_label: str
    actor: str = Field(description="who acted, by name")
    actor_id: int | None
    unit: UnitRef | None
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: dict[str, Any] = Field(description="what the action recorded (depends on the action)")


class ActionResult(Out):
    ticket: TicketOut = Field(description="the ticket after the action")
    event: EventOut = Field(description="the timeline entry the action wrote")


# ---------------------------------------------------------------- errors


class ProblemOut(BaseModel):
    field: str = Field(description="the field (or parameter) refused, e.g. category_code or items.0.name")
    type: str = Field(description="why, as a code: missing, string_too_long, greater_than_equal, …")
    message: str = Field(description="what is wrong, in Chinese")
    label: SkipJsonSchema[None] | str = Field(default=None, json_schema_extra=lambda s: s.pop("default", None),
                                              description="the field's Chinese name, where it has one")
    ctx: SkipJsonSchema[None] | dict[str, str | int | float | bool] = Field(
        default=None, json_schema_extra=lambda s: s.pop("default", None),
        description="the limit broken (ge, le, max_length, expected, …), where there is one")


class ErrorDetails(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=_open)
    field: SkipJsonSchema[None] | str = Field(default=None, json_schema_extra=lambda s: s.pop("default", None),
                                              description="the field the refusal is about, where there is one")
    problems: SkipJsonSchema[None] | list[ProblemOut] = Field(
        default=None, json_schema_extra=lambda s: s.pop("default", None),
        description="invalid_request (422): every field refused")


class ErrorInfo(BaseModel):
    code: str = Field(description="a stable code for programs: unauthenticated, permission_denied, not_found, "
                                  "conflict, transition_not_allowed, invalid_request, malformed_json, …")
    message: str = Field(description="what went wrong and what to do, in Chinese, for people")
    details: ErrorDetails = Field(description="more, for programs ({} when there is nothing more)")


class ErrorOut(BaseModel):
    """Every error of the JSON API: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorInfo
