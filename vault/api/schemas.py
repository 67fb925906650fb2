"""The API's bodies as pydantic models: what is accepted, what is answered, and (through
vault.api.openapi) the OpenAPI document, which is generated from these and nothing else.

Each field is checked by the same cell parser as the CSV import (vault.ingest.fields), so a
value refused in a file is refused here with the same message. Decimals may be JSON strings
or numbers. A field left out of an account or contact keeps its stored value, as a column
left out of a file does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from vault.ingest import fields as f
from vault.vocabulary import Role

MAX_BATCH = 1000
T = TypeVar("T")


def _cell(parse: Callable[[str, str], Any], name: str) -> BeforeValidator:
    """A validator running the CSV cell parser on the JSON value (numbers as text)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PydanticCustomError("type", f"{name} must be a string or a number")
        text = value if isinstance(value, str) else str(value)
        try:
            return parse(name, text)
        except f.FieldError as exc:
            raise PydanticCustomError("field", str(exc)) from None

    return BeforeValidator(check)


_DECIMAL = WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^[+-]?[0-9]+(\.[0-9]+)?$"}, {"type": "number"}]
})


def _text(max_length: int, required: bool = False) -> Callable[[str, str], str]:
    return partial(f.text, max_length=max_length, required=required)


_FILE_STATUS = WithJsonSchema({"type": "string", "enum": list(f.FILE_STATUSES)})
_DATE = WithJsonSchema({"type": "string", "format": "date"})
_NUMBER4 = partial(f.number, places=4)


def _enum(values: type[StrEnum]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": [v.value for v in values]})


ExternalId = Annotated[str, Field(min_length=1, max_length=120,
                                  description="the id of this object in your system")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        """Every string field, whatever else checks it (an external_id too): text that
        the database cannot hold is refused here with a 422, not failed on at the insert."""
        if isinstance(value, str):
            try:
                f.storable(info.field_name or "value", value)
            except f.FieldError as exc:
                raise PydanticCustomError("field", str(exc)) from None
        return value


class AccountIn(_In):
    # Shown in the OpenAPI document, and sent first by the schema test (schemathesis).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"account_id": "ACME", "name": "ACME Freight GmbH", "timezone": "Europe/Berlin",
         "locale": "de_DE"}]})
    account_id: Annotated[str, _cell(f.identifier, "account_id")]
    name: Annotated[str, _cell(_text(200, required=True), "name")]
    timezone: Annotated[str, _cell(partial(f.timezone, default="UTC"), "timezone")] | None = None
    locale: Annotated[str, _cell(partial(f.locale, default="en"), "locale")] | None = None
    tier: Annotated[str, _cell(_text(32), "tier")] | None = None
    tax_id: Annotated[str, _cell(_text(64), "tax_id")] | None = None
    address: Annotated[str, _cell(_text(2000), "address")] | None = None
    slack_team_id: Annotated[str, _cell(f.slack_team, "slack_team_id")] | None = None
    step_up: Annotated[str, _cell(f.step_up, "step_up")] | None = None


class ContactIn(_In):
    account_id: Annotated[str, _cell(f.identifier, "account_id")]
    email: Annotated[str, _cell(f.email, "email"), Field(max_length=254)]
    name: Annotated[str, _cell(_text(200), "name")] | None = None
    role: Annotated[str, _cell(f.role, "role"), _enum(Role)] | None = None
    locale: Annotated[str, _cell(partial(f.locale, default=""), "locale")] | None = None
    timezone: Annotated[str, _cell(partial(f.timezone, default=""), "timezone")] | None = None
    active: bool | None = None


class LineIn(_In):
    description: Annotated[str, _cell(_text(2000, required=True), "description")]
    quantity: Annotated[Decimal, _cell(_NUMBER4, "quantity"), _DECIMAL]
    unit_price: Annotated[Decimal, _cell(_NUMBER4, "unit_price"), _DECIMAL]
    tax_rate: Annotated[Decimal, _cell(f.tax_rate, "tax_rate"), _DECIMAL] = Decimal(0)


class InvoiceIn(_In):
    external_id: ExternalId | None = None
    account_id: Annotated[str, _cell(f.identifier, "account_id")]
    invoice_number: Annotated[str, _cell(f.identifier, "invoice_number")]
    issue_date: Annotated[date, _cell(f.iso_date, "issue_date"), _DATE]
    due_date: Annotated[date, _cell(f.iso_date, "due_date"), _DATE]
    currency: Annotated[str, _cell(f.currency, "currency"), Field(min_length=3, max_length=3)]
    entity: Annotated[str, _cell(_text(200), "entity")] = ""
    po_number: Annotated[str, _cell(_text(64), "po_number")] = ""
    status: Annotated[str, _cell(f.file_status, "status"), _FILE_STATUS] = ""
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_BATCH)


class PaymentIn(_In):
    external_id: ExternalId | None = None
    account_id: Annotated[str, _cell(f.identifier, "account_id")]
    invoice_number: Annotated[str, _cell(f.identifier, "invoice_number")]
    amount: Annotated[Decimal, _cell(f.money, "amount"), _DECIMAL]
    paid_on: Annotated[date, _cell(f.iso_date, "paid_on"), _DATE]
    reference: Annotated[str, _cell(_text(120), "reference")] = ""
    method: Annotated[str, _cell(_text(64), "method")] = ""


class CreditNoteIn(_In):
    """A credit note; `amount` is its total with tax. Give `lines` (as an invoice's) to
    state the tax; without them the amount is one line of no tax, described by `reason`."""

    external_id: ExternalId | None = None
    credit_note_number: Annotated[str, _cell(f.identifier, "credit_note_number")]
    account_id: Annotated[str, _cell(f.identifier, "account_id")]
    invoice_number: Annotated[str, _cell(f.identifier, "invoice_number"), Field(
        description="the invoice it credits; leave out for an unallocated credit")] | None = None
    issue_date: Annotated[date, _cell(f.iso_date, "issue_date"), _DATE]
    currency: Annotated[str, _cell(f.currency, "currency"), Field(min_length=3, max_length=3)]
    amount: Annotated[Decimal, _cell(f.money, "amount"), _DECIMAL] | None = None
    reason: Annotated[str, _cell(_text(2000), "reason")] = ""
    lines: list[LineIn] = Field(default_factory=list, max_length=MAX_BATCH)


class Batch(BaseModel, Generic[T]):
    """Up to 1,000 objects of one kind, stored all or none."""

    model_config = ConfigDict(extra="forbid")
    items: list[T] = Field(min_length=1, max_length=MAX_BATCH)


# ---- answers ------------------------------------------------------------------------------

Result = Literal["created", "updated", "unchanged"]


class AccountOut(BaseModel):
    account_id: str
    name: str
    timezone: str
    locale: str
    tier: str
    tax_id: str
    address: str
    slack_team_id: str
    step_up: str
    result: Result | None = None


class ContactOut(BaseModel):
    account_id: str
    email: str
    name: str
    role: str
    locale: str
    timezone: str
    active: bool
    result: Result | None = None


class LineOut(BaseModel):
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    amount: str


class CreditNoteOut(BaseModel):
    credit_note_number: str
    account_id: str
    invoice_number: str | None
    source: str
    external_id: str | None
    issue_date: date
    currency: str
    subtotal: str
    tax_total: str
    amount: str
    reason: str
    lines: list[LineOut]
    result: Result | None = Field(default=None, description="on POST: what the call did")


class InvoiceOut(BaseModel):
    invoice_number: str
    account_id: str
    source: str
    external_id: str | None
    issue_date: date
    due_date: date
    currency: str
    entity: str
    po_number: str
    status: str
    subtotal: str
    tax_total: str
    total: str
    amount_paid: str
    amount_credited: str = Field(description="the sum of its credit notes")
    amount_due: str
    lines: list[LineOut]
    credit_notes: list[CreditNoteOut] = Field(description="the credit notes allocated to it")
    result: Result | None = Field(default=None, description="on POST: what the call did")


class PaymentOut(BaseModel):
    account_id: str
    invoice_number: str
    source: str
    external_id: str | None
    amount: str
    paid_on: date
    reference: str
    method: str
    result: Result | None = None


class BatchOut(BaseModel, Generic[T]):
    items: list[T]


class Change(BaseModel):
    cursor: str = Field(description="pass as ?since= to get what came after this change")
    at: str
    kind: str
    invoice_number: str
    credit_note_number: str | None = Field(
        default=None, description="the credit note, on a credit_note.issued change")
    account_id: str
    source: str
    external_id: str | None
    old_status: str | None
    new_status: str | None
    amount: str | None


class Changes(BaseModel):
    changes: list[Change]
    next: str = Field(description="the cursor to ask with next (the same when nothing new)")


class ApiError(BaseModel):
    pointer: str = Field(description="JSON Pointer to the field in the request body ('' for "
                                     "the whole body)")
    message: str


class ApiErrors(BaseModel):
    errors: list[ApiError]


class Problem(BaseModel):
    """Any other refusal (401, 403, 404, 409, 429): a short word, no detail."""

    error: str
