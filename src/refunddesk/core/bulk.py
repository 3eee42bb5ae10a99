"""Writing many rows' different values in one statement on PostgreSQL, where each
statement is a round trip: `UPDATE … FROM (VALUES …)`, joined on the primary key. Django's
bulk_update builds one CASE per column instead, whose cost grows with the rows times the
columns and soon outweighs the round trips it saves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def update_from_values(model: type[models.Model], rows: Sequence[models.Model],
                       field_names: Sequence[str]) -> int:
    """Write `field_names` of each of `rows` (saved instances of `model`) as they are on
    the instances (an auto_now field too: as QuerySet.update, it is the caller's to set);
    the number of rows updated. PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("update_from_values needs PostgreSQL")
    if not rows:
        return 0
    meta = model._meta
    columns = [_concrete(meta.pk), *(_concrete(meta.get_field(name)) for name in field_names)]
    quote = connection.ops.quote_name
    # Each value cast to its column's type (a VALUES list has no types of its own); text
    # as text, so that a value too long for its column fails as it would in any UPDATE
    # instead of being cut by the cast.
    one_row = "(" + ", ".join(f"%s::{_cast(column)}" for column in columns) + ")"
    params: list[Any] = [column.get_db_prep_save(getattr(row, column.attname), connection)
                         for row in rows for column in columns]
    key, *fields = (quote(str(column.column)) for column in columns)
    sets = ", ".join(f"{name} = v.{name}" for name in fields)
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {sets} "
           f"FROM (VALUES {', '.join([one_row] * len(rows))}) "
           f"AS v({', '.join([key, *fields])}) WHERE t.{key} = v.{key}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _concrete(field: object) -> models.Field[Any, Any]:
    """A column of the table (not a reverse relation)."""
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{field} is not a column")
    return field


def _cast(field: models.Field[Any, Any]) -> str:
    if isinstance(field, (models.CharField, models.TextField)):
        return "text"
    db_type = field.db_type(connection)
    assert db_type is not None
    return db_type
