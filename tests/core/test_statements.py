"""Fixed statements (core/statements.py) read rows as the ORM reads them: the same
instances and the same Python values from SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import models

from refunddesk.billing.importing import OrderImporter, Outcome
from refunddesk.billing.models import Account, Order, OrderLine, Payment, Usage
from refunddesk.billing.order_facts import read_order
from refunddesk.calendars.models import CalendarDay
from refunddesk.core.statements import Columns, column, converter, fetch, moment, table

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(example_order):
    example_order["lines"][0]["usage"] = [{
        "metric": "traffic", "quantity": "12.5", "unit": "GB",
        "period_start": "2026-03-01T10:05:00+08:00", "period_end": "2026-03-02T10:05:00+08:00",
    }]
    example_order["invoiced"] = True
    assert OrderImporter().import_order(read_order(example_order)) is Outcome.CREATED


def read_all(model: type[models.Model]) -> list[models.Model]:
    columns = Columns(model, "t")
    rows = fetch(f"SELECT {columns.sql()} FROM {table(model)} t "
                 f"ORDER BY t.{column(model, 'id')}", [])
    return [columns.instance(row) for row in rows]


def field_values(instance: models.Model) -> list[tuple[str, object]]:
    return [(field.attname, getattr(instance, field.attname))
            for field in type(instance)._meta.concrete_fields]


@pytest.mark.parametrize("model", [Account, Order, OrderLine, Payment, Usage])
def test_a_row_read_by_a_statement_is_the_instance_the_orm_reads(imported, model):
    by_orm = list(model.objects.order_by("id"))

    by_statement = read_all(model)

    assert by_statement == by_orm  # the same rows, as instances of the model
    assert [field_values(one) for one in by_statement] == [
        field_values(one) for one in by_orm]
    assert all(not one._state.adding for one in by_statement)  # saved rows, as from the ORM


def test_times_come_back_aware_decimals_exact_and_json_as_python(imported):
    usage = read_all(Usage)[0]
    line = read_all(OrderLine)[0]
    order = read_all(Order)[0]

    assert usage.period_start == datetime(2026, 3, 1, 2, 5, tzinfo=UTC)
    assert usage.period_start.tzinfo is not None
    assert usage.quantity == Decimal("12.5")
    assert isinstance(line.flags, list)
    assert order.is_invoiced is True


def test_a_date_column_comes_back_as_a_date():
    CalendarDay.objects.create(country="CN", day=date(2026, 10, 1), kind="holiday",
                               name="National Day")

    [day] = read_all(CalendarDay)

    assert day.day == date(2026, 10, 1)
    assert field_values(day) == field_values(CalendarDay.objects.get())


def test_only_the_columns_named_are_read_and_converted(imported):
    columns = Columns(Usage, "u", ["metric", "quantity", "period_end"])

    [row] = fetch(f"SELECT {columns.sql()} FROM {table(Usage)} u", [])

    assert columns.width == 3
    assert columns.values(row) == ("traffic", Decimal("12.500000"),
                                   datetime(2026, 3, 2, 2, 5, tzinfo=UTC))


def test_a_foreign_key_is_named_by_its_field_or_its_attname():
    assert column(Order, "account") == column(Order, "account_id")


def test_text_and_integer_columns_need_no_conversion():
    assert converter(Order._meta.get_field("external_id")) is None
    assert converter(OrderLine._meta.get_field("amount_paid_minor")) is None


@pytest.mark.parametrize("stored", [
    "2026-03-01 02:05:00", "2026-03-01T02:05:00+00:00", datetime(2026, 3, 1, 2, 5),
    datetime(2026, 3, 1, 2, 5, tzinfo=UTC)])
def test_a_stored_moment_is_read_as_an_aware_time_in_utc(stored):
    assert moment(stored) == datetime(2026, 3, 1, 2, 5, tzinfo=UTC)
    assert moment(None) is None
