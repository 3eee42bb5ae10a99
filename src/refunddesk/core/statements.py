"""Fixed SQL statements for the busiest reads, named from the models' `_meta`.

Why not the ORM there: building a query (compiling the lookups, the joins, the columns)
costs some 0.3 ms of CPU each time, twenty times what running a prepared statement costs
the client. A statement whose text never changes is prepared by psycopg once per
connection (settings: prepare_threshold), so PostgreSQL neither parses nor plans it again.
Table and column names come from Django's public model API (`_meta.get_field`, `db_table`),
so a renamed column is followed; what the ORM converts on the way out (times SQLite gives
as text, JSON both give as text, booleans and decimals SQLite gives as numbers) is
converted here, by the field's type. Rows become model instances through the public
`Model.from_db`, as the ORM makes them.

Writes: `insert` writes new instances of one model as `bulk_create` does (each field's
public `pre_save` and `get_db_prep_save`, the key back by RETURNING), with a statement
fixed per model and number of rows instead of one compiled each time — some 0.3 ms of CPU
per insert, and an API case makes five.

Use it where a read or an insert runs on every request and its shape is fixed; everywhere
else the ORM is clearer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Context, Decimal
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, ForeignKey, Model
from django.utils.dateparse import parse_date, parse_datetime

M = TypeVar("M", bound=Model)


def field_of(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    # Each name is one of the model's own fields stored in a column of its table.
    assert isinstance(field, Field) and field.column is not None, (model, name)
    return field


def column(model: type[Model], name: str) -> str:
    """The quoted column of the model's field `name` (a foreign key by its field name or
    its attname: "account" or "account_id")."""
    column = field_of(model, name).column
    assert column is not None
    return connection.ops.quote_name(column)


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def moment(value: Any) -> datetime | None:
    """A stored time, aware: SQLite hands back text or a naive datetime in the database's
    time zone (UTC), PostgreSQL an aware datetime."""
    if value is None:
        return None
    found = value if isinstance(value, datetime) else parse_datetime(value)
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=connection.timezone)
    return found


def _day(value: Any) -> date | None:
    return value if value is None or isinstance(value, date) else parse_date(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _decimal(places: int | None) -> Callable[[Any], Decimal | None]:
    # As Django's SQLite backend reads a decimal column (a float): to 15 digits, then to
    # the field's places; PostgreSQL gives a Decimal already.
    context, quantum = Context(prec=15), Decimal(1).scaleb(-(places or 0))

    def read(value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            return context.create_decimal_from_float(value).quantize(quantum)
        return Decimal(value)
    return read


def converter(field: Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How to read the field's column as the ORM would; None when the value is already
    what the ORM gives (text, integers, keys)."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return moment
    if kind == "DateField":
        return _day
    if kind == "JSONField":
        return _json
    if kind == "BooleanField":
        return _boolean
    if kind == "DecimalField":
        return _decimal(getattr(field, "decimal_places", None))
    return None


class Columns(Generic[M]):
    """Columns of one model in a statement, under a table alias: their SQL, and a row's
    slice of them as a model instance or as converted values."""

    def __init__(self, model: type[M], alias: str, names: Sequence[str] | None = None):
        self.model, self.alias = model, alias
        fields = ([field_of(model, name) for name in names] if names is not None
                  else [field for field in model._meta.concrete_fields])
        self.attnames = tuple(field.attname for field in fields)
        self.columns = tuple(field.column for field in fields)
        self.converters = tuple(converter(field) for field in fields)
        self.width = len(fields)

    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{connection.ops.quote_name(name)}"
                         for name in self.columns if name is not None)

    def values(self, row: Sequence[Any], start: int = 0) -> tuple[Any, ...]:
        return tuple(value if read is None else read(value) for value, read in
                     zip(row[start:start + self.width], self.converters, strict=True))

    def instance(self, row: Sequence[Any], start: int = 0) -> M:
        return self.model.from_db(connection.alias, self.attnames, self.values(row, start))


def fetch(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


@cache
def _insert_statement(model: type[Model], vendor: str, rows: int
                      ) -> tuple[str, tuple[Field[Any, Any], ...]]:
    pk = model._meta.pk
    assert pk is not None and pk.db_returning, model  # a key the database gives
    assert connection.features.can_return_rows_from_bulk_insert  # PostgreSQL, SQLite 3.35+
    fields = tuple(field for field in model._meta.concrete_fields
                   if field is not pk and not field.generated and field.column is not None)
    names = ", ".join(connection.ops.quote_name(field.column or "") for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (f"INSERT INTO {table(model)} ({names}) VALUES {', '.join([row] * rows)} "
            f"RETURNING {connection.ops.quote_name(pk.column or '')}"), fields


# Rows per insert statement at most: one statement is kept per number of rows, so their
# count stays bounded, and the parameters stay far below SQLite's limit (32,766).
INSERT_BATCH = 100


def insert(instances: Sequence[M]) -> Sequence[M]:
    """Write new instances of one model, in one statement per INSERT_BATCH of them: what
    `bulk_create` writes, the keys set on them in their order. Signals are not sent
    (bulk_create sends none either); values are plain (no expressions); each foreign key
    is taken from the related instance when only that was given (a case line made before
    its case was written)."""
    for start in range(0, len(instances), INSERT_BATCH):
        _insert_batch(instances[start:start + INSERT_BATCH])
    return instances


def _insert_batch(instances: Sequence[M]) -> None:
    model = type(instances[0])
    statement, fields = _insert_statement(model, connection.vendor, len(instances))
    # The connection itself, not the proxy `connection`: looked up once, not per value.
    database = connections[DEFAULT_DB_ALIAS]
    params: list[Any] = []
    for instance in instances:
        assert type(instance) is model and instance.pk is None, instance
        for field in fields:
            if isinstance(field, ForeignKey) and getattr(instance, field.attname) is None:
                # Reads the related instance only when it is held (no query otherwise).
                related = getattr(instance, field.name)
                if related is not None:
                    if related.pk is None:  # as bulk_create refuses it: it would write NULL
                        raise ValueError(f"{model.__name__}.{field.name}: the related "
                                         f"{type(related).__name__} is not saved yet")
                    setattr(instance, field.attname, related.pk)
            value = field.pre_save(instance, True)
            if hasattr(value, "resolve_expression"):  # F(), Now(), a database default
                raise TypeError(f"{model.__name__}.{field.name}: insert writes values only")
            params.append(field.get_db_prep_save(value, database))
    rows = fetch(statement, params)
    for instance, (key,) in zip(instances, rows, strict=True):
        instance.pk = key
        # As a saved instance (documented: Model._state).
        instance._state.adding, instance._state.db = False, database.alias
