"""Medians and 90th percentiles computed by the database, on both databases.

PostgreSQL has `percentile_cont(f) WITHIN GROUP (ORDER BY x)`; SQLite has no percentile
aggregate, so each SQLite connection gets one of ours with the same answer (linear
interpolation between the two nearest ranks), registered through SQLite's public
`create_aggregate` when Django opens the connection (apps.py).
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Aggregate, FloatField

SQLITE_FUNCTION = "refunddesk_percentile"


def interpolated(ordered: list[float], fraction: float) -> float | None:
    """The `fraction` percentile of sorted values, as percentile_cont computes it."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SQLitePercentile:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return interpolated(sorted(self.values), self.fraction)


def add_sqlite_percentile(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_FUNCTION, 2, _SQLitePercentile)


class Percentile(Aggregate):
    """The `fraction` (0.5: the median) percentile of an expression's non-null values."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"a percentile's fraction is between 0 and 1, not {fraction}")
        # A literal, written into the SQL: it is a number we checked, never user input.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function=SQLITE_FUNCTION,
                           template="%(function)s(%(expressions)s, %(fraction)s)",
                           **extra_context)

