"""The OpenAPI 3.1 document of /api/v1, built from the pydantic models (vault.api.schemas):
pydantic writes every schema (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is); this
module only lays out the paths, their statuses and the bearer security around them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from vault.api import schemas as s
from vault.api.ingest import MODELS
from vault.ingest.fields import STORABLE_PATTERN
from vault.vocabulary import Source

_OUT: dict[str, type[BaseModel]] = {
    "accounts": s.AccountOut, "contacts": s.ContactOut, "invoices": s.InvoiceOut,
    "payments": s.PaymentOut, "credit-notes": s.CreditNoteOut,
}
_REF = "#/components/schemas/{model}"


class _StorableText(GenerateJsonSchema):
    """Every string a body may send says what the API checks of all of them (schemas._In):
    no control characters but tab and line breaks (vault.ingest.fields.storable)."""

    def str_schema(self, schema: core_schema.StringSchema) -> dict[str, Any]:
        written = super().str_schema(schema)
        if self.mode == "validation":
            written.setdefault("pattern", STORABLE_PATTERN)
        return written


def _inputs() -> list[type[BaseModel]]:
    return [*MODELS.values(), *(s.Batch[m] for m in MODELS.values())]  # type: ignore[valid-type]


def _outputs() -> list[type[BaseModel]]:
    batches = (s.BatchOut[m] for m in _OUT.values())  # type: ignore[valid-type]
    return [*_OUT.values(), *batches, s.Changes, s.ApiErrors, s.Problem]


@cache
def _schemas() -> tuple[dict[type[BaseModel], dict[str, str]], dict[str, Any]]:
    """model -> its $ref, and the component schemas: pydantic names them."""
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "validation") for m in _inputs()), *((m, "serialization") for m in _outputs())]
    refs, top = models_json_schema(modes, ref_template=_REF, schema_generator=_StorableText)
    by_model = {model: dict(ref) for (model, _), ref in refs.items()}
    return by_model, top.get("$defs", {})  # type: ignore[return-value]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return _schemas()[0][model]


def _json(schema: dict[str, Any], description: str, **headers: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = {name: {"description": text, "schema": {"type": "integer"}}
                             for name, text in headers.items()}
    return answer


def _refusals(*statuses: int) -> dict[str, Any]:
    words = {
        401: "no key, or an unknown or revoked one", 403: "the key's scope does not allow this",
        404: "no such object", 409: "the Idempotency-Key was used for another request, or a "
        "concurrent call stored the same object first (retry)",
    }
    answers = {str(code): _json(_ref(s.Problem), words[code]) for code in statuses}
    answers["429"] = _json(_ref(s.Problem), "too many requests for this key",
                           **{"Retry-After": "seconds to wait"})
    return answers


def _post(kind: str) -> dict[str, Any]:
    model, out = MODELS[kind], _OUT[kind]
    one_or_batch = {"oneOf": [_ref(model), _ref(s.Batch[model])]}  # type: ignore[valid-type]
    stored = {"oneOf": [_ref(out), _ref(s.BatchOut[out])]}  # type: ignore[valid-type]
    return {
        "summary": f"Create or update {kind} (one object, or a batch of up to "
                   f"{s.MAX_BATCH}, all or nothing)",
        "operationId": f"post_{kind.replace('-', '_')}",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": one_or_batch}}},
        "responses": {
            "200": _json(stored, "updated, or unchanged (result says which)"),
            "201": _json(stored, "created (in a batch: at least one item was)"),
            "422": _json(_ref(s.ApiErrors), "refused; nothing was stored"),
            **_refusals(401, 403, 409),
        },
    }


def _get(operation_id: str, summary: str, params: list[dict[str, Any]],
         answer: type[BaseModel], *refusals: int) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "operationId": operation_id, "parameters": params,
        "responses": {"200": _json(_ref(answer), "found"), **_refusals(401, 403, *refusals)},
    }}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 1}}


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {f"/api/v1/{kind}": {"post": _post(kind)} for kind in MODELS}
    paths["/api/v1/invoices/{invoice_number}"] = _get(
        "get_invoice", "An invoice by its number", [_path_param("invoice_number")],
        s.InvoiceOut, 404)
    paths["/api/v1/invoices/external/{source}/{external_id}"] = _get(
        "get_invoice_by_external_id", "An invoice by the id a source gave it",
        [{"name": "source", "in": "path", "required": True,
          "schema": {"type": "string", "enum": [source.value for source in Source]}},
         _path_param("external_id")], s.InvoiceOut, 404)
    paths["/api/v1/changes"] = _get(
        "get_changes", "What happened to invoices after a cursor, oldest first",
        [{"name": "since", "in": "query", "required": False,
          "schema": {"type": "string", "pattern": "^[0-9]{1,18}$", "default": "0"}},
         {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
        s.Changes)
    for path in paths.values():  # a bad query parameter is refused like a bad body
        if "get" in path:
            path["get"]["responses"]["422"] = _json(_ref(s.ApiErrors), "a bad parameter")
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "invoicebot ingestion API", "version": "1"},
        "paths": _paths(),
        "components": {
            "schemas": _schemas()[1],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
