"""Keeping a country's calendar: adding and removing days, importing a year's schedule, every
change recorded (who, when, what), bad input refused with nothing changed, and the one
calendar reader seeing each change at once."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from refunddesk.calendars import actions
from refunddesk.calendars.actions import CalendarError
from refunddesk.calendars.date_lists import parse_date_list
from refunddesk.calendars.models import CalendarChange, CalendarDay, EnteredYear
from refunddesk.calendars.reading import amendments_for, calendar_for
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.cases.errors import NotPermitted
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)

# An example list for 2027, not the official schedule.
EXAMPLE_2027 = """\
2027-01-01 holiday 元旦
2027-02-05 holiday 春节
2027-02-06 holiday 春节
2027-02-07 holiday 春节
2027-02-08 holiday 春节
2027-02-20 workday 调休 (example)
"""


def days(text, year=2027):
    parsed = parse_date_list(text, year=year)
    assert parsed.is_valid, parsed.errors
    return parsed.days


def kept(country="CN"):
    return list(CalendarDay.objects.filter(country=country)
                .values_list("day", "kind", "name").order_by("day"))


def test_an_added_holiday_is_kept_recorded_and_counted_at_once(admin):
    before = calendar_for("CN")
    assert before.is_business_day(date(2027, 1, 1))  # no data: the weekday rule

    actions.add_day("CN", date(2027, 1, 1), "holiday", " 元旦 ", actor=admin, now=AT)

    assert kept() == [(date(2027, 1, 1), "holiday", "元旦")]
    change = CalendarChange.objects.get()
    assert (change.at, change.changed_by, change.country, change.kind, change.details) == (
        AT, admin, "CN", "day_added", {"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert not calendar_for("CN").is_business_day(date(2027, 1, 1))


def test_a_removed_day_goes_back_to_the_packaged_data_and_is_recorded(admin):
    # 1 October 2026 is a packaged holiday; an admin opened it, then changes their mind.
    entry = actions.add_day("CN", date(2026, 10, 1), "workday", actor=admin, now=AT)
    assert calendar_for("CN").is_business_day(date(2026, 10, 1))

    actions.remove_day("CN", entry.pk, actor=admin, now=AT)

    assert kept() == []
    assert not calendar_for("CN").is_business_day(date(2026, 10, 1))
    assert list(CalendarChange.objects.order_by("id").values_list("kind", flat=True)) == [
        "day_added", "day_removed"]


def test_a_day_already_kept_is_refused_and_nothing_changes(admin):
    actions.add_day("CN", date(2027, 1, 1), "holiday", actor=admin)

    with pytest.raises(CalendarError, match="2027-01-01 is already kept as a holiday; remove "
                                            "it first"):
        actions.add_day("CN", date(2027, 1, 1), "workday", actor=admin)

    assert kept() == [(date(2027, 1, 1), "holiday", "")]
    assert CalendarChange.objects.count() == 1


@pytest.mark.parametrize(("country", "kind", "day", "message"), [
    ("XX", "holiday", date(2027, 1, 1), "XX is not a country with a business calendar"),
    ("none", "holiday", date(2027, 1, 1), "none is not a country"),
    ("CN", "day_off", date(2027, 1, 1), "holiday or a make-up working day"),
    ("CN", "holiday", date(1999, 1, 1), "between 2000 and 2100"),
])
def test_bad_days_are_refused_by_name_and_nothing_changes(admin, country, kind, day, message):
    with pytest.raises(CalendarError, match=message):
        actions.add_day(country, day, kind, actor=admin)
    assert not CalendarDay.objects.exists() and not CalendarChange.objects.exists()


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_admins_keep_calendars(role):
    someone = staff_member(f"{role}-cal", role)
    with pytest.raises(NotPermitted, match="Only an admin keeps the business calendars"):
        actions.add_day("CN", date(2027, 1, 1), "holiday", actor=someone)
    with pytest.raises(NotPermitted):
        actions.import_year("CN", 2027, days(EXAMPLE_2027), actor=someone)
    assert not CalendarDay.objects.exists() and not CalendarChange.objects.exists()


def test_no_actor_and_a_system_actor_without_the_power_are_refused():
    with pytest.raises(NotPermitted):
        actions.add_day("CN", date(2027, 1, 1), "holiday", actor=None)
    with pytest.raises(NotPermitted, match=r"calendar\.keep"):
        actions.add_day("CN", date(2027, 1, 1), "holiday", actor=COMMAND_LINE)


def test_importing_a_year_keeps_its_days_marks_it_entered_and_makes_it_known(admin):
    assert calendar_for("CN").covered_through(date(2026, 12, 4)) == date(2026, 12, 31)

    plan = actions.import_year("CN", 2027, days(EXAMPLE_2027), actor=admin, now=AT)

    assert (len(plan.added), len(plan.changed), len(plan.removed)) == (6, 0, 0)
    assert len(kept()) == 6
    assert EnteredYear.objects.get().year == 2027
    calendar = calendar_for("CN")
    assert calendar.covered_through(date(2026, 12, 4)) == date(2027, 12, 31)
    assert calendar.is_business_day(date(2027, 2, 20))  # the example's Saturday worked
    change = CalendarChange.objects.get()
    assert (change.kind, change.changed_by, change.details["year"], change.details["lines"],
            len(change.details["added"])) == ("year_imported", admin, 2027, 6, 6)


def test_importing_a_year_again_replaces_its_kept_days_and_says_what_changed(admin):
    actions.import_year("CN", 2027, days(EXAMPLE_2027), actor=admin)
    actions.add_day("CN", date(2026, 12, 31), "holiday", "kept before", actor=admin)
    corrected = (EXAMPLE_2027.replace("2027-02-20 workday 调休 (example)\n", "")
                 .replace("2027-01-01 holiday 元旦", "2027-01-01 holiday New Year's Day")
                 + "2027-02-09 holiday 春节\n")

    plan = actions.plan_import("CN", 2027, days(corrected))
    assert ([d.day for d in plan.added], [d.day for _, d in plan.changed],
            [r.day for r in plan.removed], plan.was_entered) == (
        [date(2027, 2, 9)], [date(2027, 1, 1)], [date(2027, 2, 20)], True)
    assert len(kept()) == 7  # the plan changes nothing

    actions.import_year("CN", 2027, days(corrected), actor=admin)

    assert (date(2027, 2, 20), "workday", "调休 (example)") not in kept()
    assert (date(2027, 1, 1), "holiday", "New Year's Day") in kept()
    assert (date(2026, 12, 31), "holiday", "kept before") in kept()  # another year: kept
    assert EnteredYear.objects.count() == 1


def test_an_import_with_a_date_of_another_year_changes_nothing(admin):
    from refunddesk.calendars.date_lists import ListedDay

    stray = [ListedDay(date(2028, 1, 1), "holiday", "", 1)]
    with pytest.raises(CalendarError, match="2028-01-01 is not part of the 2027 schedule"):
        actions.import_year("CN", 2027, stray, actor=admin)
    with pytest.raises(CalendarError, match="no dates"):
        actions.import_year("CN", 2027, [], actor=admin)
    assert not CalendarDay.objects.exists() and not EnteredYear.objects.exists()
    assert not CalendarChange.objects.exists()


def test_withdrawing_an_entered_year_makes_it_unknown_again_and_keeps_its_days(admin):
    actions.import_year("CN", 2027, days(EXAMPLE_2027), actor=admin)

    actions.withdraw_year("CN", 2027, actor=admin, now=AT)

    assert not calendar_for("CN").covers(date(2027, 6, 1))
    assert not calendar_for("CN").is_business_day(date(2027, 1, 1))  # its days still count
    assert CalendarChange.objects.latest("id").kind == "year_withdrawn"
    with pytest.raises(CalendarError, match="2027 is not marked as entered"):
        actions.withdraw_year("CN", 2027, actor=admin)


def test_the_reader_gives_each_country_its_own_days(admin):
    actions.add_day("US", date(2026, 12, 24), "holiday", "Christmas Eve", actor=admin)

    assert not calendar_for("US").is_business_day(date(2026, 12, 24))
    assert calendar_for("CN").is_business_day(date(2026, 12, 24))
    assert amendments_for("US").holidays == {date(2026, 12, 24)}


def test_the_reader_keeps_its_calendar_until_the_days_change(admin):
    first = calendar_for("CN")
    assert calendar_for("CN") is first  # cached while nothing changes

    actions.add_day("CN", date(2027, 1, 1), "holiday", actor=admin)

    assert calendar_for("CN") is not first


def test_the_reader_sees_a_change_another_process_made(admin, django_assert_num_queries):
    from django.utils import timezone

    calendar_for("CN")
    # Another process writes its day and its change record: this process never forgot.
    CalendarDay.objects.create(country="CN", day=date(2027, 1, 1), kind="holiday")
    CalendarChange.objects.create(at=timezone.now(), country="CN", kind="day_added")

    assert not calendar_for("CN").is_business_day(date(2027, 1, 1))
    with django_assert_num_queries(1):  # unchanged since: one look at the latest change
        calendar_for("CN")


def test_a_span_was_known_when_its_years_were_packaged_or_entered_by_then(admin):
    from datetime import timedelta

    from refunddesk.calendars.reading import was_known

    december, january = date(2026, 12, 31), date(2027, 1, 4)
    assert was_known("CN", date(2026, 3, 1), december, AT)
    assert not was_known("CN", december, january, AT)

    actions.import_year("CN", 2027, days(EXAMPLE_2027), actor=admin, now=AT)

    assert was_known("CN", december, january, AT + timedelta(seconds=1))
    assert not was_known("CN", december, january, AT - timedelta(seconds=1))
    assert was_known("none", december, january, AT - timedelta(days=1))
