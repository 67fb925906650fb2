"""Rows for bulk loading, shaped by the Tortoise models themselves.

The benchmark's vault is written with sqlite3's executemany and asyncpg's COPY, which
bypass the ORM. So that a column added to a model cannot be forgotten here (issue 14: a
new NOT NULL `account.slack_team_id` broke `make bench`), the column list comes from the
model's metadata, and each column the builder does not give takes the field's own default
(its `default`, `db_default`, the load's timestamp for auto_now fields, or NULL where the
field allows it). A NOT NULL column with none of those stops the build before any row is
written, naming the column, and so does a value given for a column the model lacks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.fields import DatetimeField, Field
from tortoise.fields.db_defaults import SqlDefault
from tortoise.models import Model


class BenchSchemaError(Exception):
    """The bench's rows no longer fit a model: say which column, and where to fix it."""


def table_name(model: type[Model]) -> str:
    return model._meta.db_table


def columns(model: type[Model]) -> tuple[str, ...]:
    """Every column of the model's table, in the model's order."""
    return tuple(model._meta.fields_db_projection.values())


def records(model: type[Model], given: tuple[str, ...], rows: Iterable[tuple[Any, ...]],
            stamp: datetime) -> Iterator[tuple[Any, ...]]:
    """Each row (values for the fields `given`, in that order) as a tuple for every column
    of `columns(model)`, with defaults filled in; values as the database driver takes them
    (enums as their values)."""
    fill = _fillers(model, given, stamp)
    for row in rows:
        yield tuple(f(row) for f in fill)


def sqlite_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The same values as Tortoise's SQLite backend writes them (Decimal and dates as text)."""
    return tuple(_SQLITE.get(type(v), _same)(v) for v in row)


def _fillers(model: type[Model], given: tuple[str, ...],
             stamp: datetime) -> list[Callable[[tuple[Any, ...]], Any]]:
    projection = model._meta.fields_db_projection
    unknown = [name for name in given if name not in projection]
    if unknown:
        raise BenchSchemaError(f"tests/bench: {table_name(model)} has no column(s) "
                               f"{', '.join(unknown)} (the model {model.__name__} changed)")
    position = {name: i for i, name in enumerate(given)}
    fill: list[Callable[[tuple[Any, ...]], Any]] = []
    for name in projection:
        field = model._meta.fields_map[name]
        if name in position:
            fill.append(_given(position[name]))
        else:
            fill.append(_default(model, name, field, stamp))
    return fill


def _given(index: int) -> Callable[[tuple[Any, ...]], Any]:
    def value(row: tuple[Any, ...]) -> Any:
        v = row[index]
        return v.value if isinstance(v, enum.Enum) else v
    return value


def _default(model: type[Model], name: str, field: Field[Any],
             stamp: datetime) -> Callable[[tuple[Any, ...]], Any]:
    if callable(field.default):
        make = field.default
        return lambda _row: field.to_db_value(make(), None)
    if field.default is not None:
        constant = field.to_db_value(field.default, None)
    elif field.has_db_default() and not isinstance(field.db_default, SqlDefault):
        constant = field.to_db_value(field.db_default, None)
    elif isinstance(field, DatetimeField) and (field.auto_now or field.auto_now_add):
        constant = stamp
    elif field.null:
        constant = None
    else:
        raise BenchSchemaError(
            f"tests/bench: {table_name(model)}.{name} is NOT NULL without a default in "
            f"{model.__name__}; give it a value in tests/bench/data.py")
    return lambda _row: constant


def _same(v: Any) -> Any:
    return v


_SQLITE: dict[type, Callable[[Any], Any]] = {
    Decimal: str, date: date.isoformat, datetime: lambda v: v.isoformat(" "),
    bool: int,
}
