"""The demo's calendar: a few example days for CN, named as examples, by the demo admin,
on the first start only — and 2027 is not marked as entered, so the warning stays."""

from datetime import date

import pytest

from refunddesk.calendars import actions
from refunddesk.calendars.demo import DEMO_DAYS, EXAMPLE, ensure_demo_calendar
from refunddesk.calendars.models import CalendarChange, CalendarDay, EnteredYear

pytestmark = pytest.mark.django_db


def test_the_demo_keeps_example_days_marked_as_examples_and_enters_no_year(admin):
    assert ensure_demo_calendar(admin) == len(DEMO_DAYS)

    kept = list(CalendarDay.objects.filter(country="CN").order_by("day"))
    assert [day.day for day in kept] == [day for day, _ in DEMO_DAYS]
    assert all(day.name.startswith(EXAMPLE) and day.kind == "holiday" for day in kept)
    assert not EnteredYear.objects.exists()
    assert set(CalendarChange.objects.values_list("changed_by", flat=True)) == {admin.pk}


def test_the_demo_adds_nothing_once_the_calendars_were_changed(admin):
    ensure_demo_calendar(admin)
    actions.remove_day("CN", CalendarDay.objects.get(day=date(2027, 1, 1)).pk, actor=admin)

    assert ensure_demo_calendar(admin) == 0
    assert not CalendarDay.objects.filter(day=date(2027, 1, 1)).exists()
