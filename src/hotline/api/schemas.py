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
from pydantic_core import PydanticCustomError

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


class Named(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str | None = None
    name: str | None = None


class CallerOut(BaseModel):
    name: str | None
    phone: str | None
    confidential: bool
    anonymous: bool
    visible: bool


class TicketSummaryOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    number: str
    version: int
    status: str
    status_label: str
    channel: str
    kind: str
    urgency: str
    category: Named
    region: Named
    title: str
    received_at: str
    lead_unit: dict[str, Any] | None
    overdue_stages: list[str]
    caller: CallerOut


class TicketOut(TicketSummaryOut):
    content: str
    deadlines: dict[str, Any]
    units: list[dict[str, Any]]
    allowed_actions: list[str]
    due_warning: str | None


class TicketPage(BaseModel):
    items: list[TicketSummaryOut]
    total: int
    page: int
    per_page: int


class EventOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    at: str
    action: str
    action_label: str
    actor: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: dict[str, Any]


class ActionResult(BaseModel):
    ticket: TicketOut
    event: EventOut


class ErrorOut(BaseModel):
    error: dict[str, Any]
