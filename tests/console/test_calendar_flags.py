"""Never a silent fallback: a deadline counted in business days over days the calendar does
not know (mainland China after 2026, until an admin enters 2027) is flagged on the case —
the console's case page warns, the queue row carries a marker — and a deadline counted
with the data is not."""

import copy
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from refunddesk.calendars import actions as calendar_actions
from refunddesk.calendars.date_lists import parse_date_list
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.policy.business_days import business_calendar
from tests.cases.conftest import import_order
from tests.cases.decision_builders import case_in_review, staff_in_every_role
from tests.conftest import EXAMPLE_ORDER
from tests.console.conftest import with_totp
from tests.portal.builders import pdf
from tests.staff import rejection_reason

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(business_calendar("CN").covers(date(2027, 1, 1)),
                       reason="chinesecalendar knows 2027 now: move the story a year on"),
]

BEIJING = ZoneInfo("Asia/Shanghai")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MARKER = "Deadline estimated: no calendar data"


def beijing(*args):
    return datetime(*args, tzinfo=BEIJING)


# Wednesday 30 December 2026: tencent-cloud's decision (3 business days) runs into 2027.
LATE_DECEMBER = beijing(2026, 12, 30, 10, 0)


@pytest.fixture
def order(db):
    return import_order(copy.deepcopy(EXAMPLE_ORDER))


@pytest.fixture
def staff():
    people = staff_in_every_role()
    for person in people.values():
        with_totp(person)
    return people


def enter_2027(admin):
    # An example list for 2027, not the official schedule: New Year's Day only.
    listed = parse_date_list("2027-01-01 holiday 元旦", year=2027).days
    calendar_actions.import_year("CN", 2027, listed, actor=admin)


def test_a_deadline_running_past_the_known_calendar_is_flagged_not_trusted(order):
    case = case_in_review(order, now=LATE_DECEMBER)

    # The decision is counted by the weekday rule (1 January counted as worked) ...
    assert case.review_due == beijing(2027, 1, 4, 10, 0)
    # ... and the case says so.
    assert RefundCase.objects.get(pk=case.pk).deadlines_estimated


def test_with_the_year_entered_the_deadline_skips_the_holiday_and_is_not_flagged(order, staff):
    enter_2027(staff["admin"])

    case = case_in_review(order, now=LATE_DECEMBER)

    assert case.review_due == beijing(2027, 1, 5, 10, 0)  # 1 January is a holiday now
    assert not RefundCase.objects.get(pk=case.pk).deadlines_estimated


def test_a_deadline_inside_the_known_calendar_is_not_flagged(order):
    case = case_in_review(order, now=beijing(2026, 12, 1, 10, 0))
    assert not case.deadlines_estimated


def test_a_clock_resumed_into_the_unknown_year_is_flagged(order, staff):
    case = case_in_review(order, now=beijing(2026, 12, 1, 10, 0))
    case = actions.request_info(case, actor=staff["agent"], questions="Receipt?",
                                due=beijing(2027, 1, 20, 18, 0), now=beijing(2026, 12, 1, 11))

    case = actions.supplement(case, actor=customer_of(case.account), message="Here.",
                              now=LATE_DECEMBER)

    assert RefundCase.objects.get(pk=case.pk).deadlines_estimated


def test_an_appeal_restarts_the_clock_and_its_flag(order, staff):
    case = case_in_review(order, now=beijing(2026, 12, 1, 10, 0))
    case = actions.reject(case, actor=staff["agent"], reason=rejection_reason(),
                          message="No.", now=beijing(2026, 12, 21, 10, 0))

    case = actions.appeal(case, actor=customer_of(case.account), text="Please look again.",
                          uploads=[pdf()], now=LATE_DECEMBER)

    assert RefundCase.objects.get(pk=case.pk).deadlines_estimated


def approved_on_new_years_eve(order, staff):
    """A case counted with data, approved on Thursday 31 December: its balance refund is
    expected a business day on, in 2027."""
    case = case_in_review(order, now=beijing(2026, 12, 1, 10, 0))
    actions.approve(case, actor=staff["reviewer"], note="ok", now=beijing(2026, 12, 31, 10))
    assert case.payouts.filter(expected_at__year=2027).exists()
    return RefundCase.objects.get(pk=case.pk)


def test_a_payout_expected_in_the_unknown_year_is_flagged_on_the_case_page(
        order, client, staff):
    case = approved_on_new_years_eve(order, staff)
    assert not case.deadlines_estimated  # its clocks were counted with data: no queue mark
    client.force_login(staff["finance"])

    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()

    assert 'id="calendar-warning"' in body and "Treat the due dates as estimates." in body


def test_a_payout_planned_after_the_year_was_entered_is_not_flagged(order, client, staff):
    enter_2027(staff["admin"])
    case = approved_on_new_years_eve(order, staff)
    client.force_login(staff["finance"])

    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()

    assert 'id="calendar-warning"' not in body


def test_the_console_case_page_warns_and_points_an_admin_to_the_calendar(order, client, staff):
    case = case_in_review(order, now=LATE_DECEMBER)
    client.force_login(staff["agent"])

    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()

    assert 'id="calendar-warning"' in body
    assert "business calendar of CN (China)" in body
    assert "Treat the due dates as estimates." in body
    assert "An admin can enter the missing schedule" in body

    client.force_login(staff["admin"])
    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()
    assert 'href="/console/calendars/CN/"' in body


def test_the_warning_says_the_dates_were_not_counted_again_once_the_year_is_entered(
        order, client, staff):
    case = case_in_review(order, now=LATE_DECEMBER)
    enter_2027(staff["admin"])
    client.force_login(staff["agent"])

    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()

    assert "were not counted again when the calendar was entered" in body


def test_a_case_counted_with_data_shows_no_warning(order, client, staff):
    case = case_in_review(order, now=beijing(2026, 12, 1, 10, 0))
    client.force_login(staff["agent"])
    body = client.get(f"/console/cases/{case.tracking_number}", **EN).content.decode()
    assert 'id="calendar-warning"' not in body


def test_the_queue_row_of_a_flagged_case_carries_a_marker(order, client, staff):
    flagged = case_in_review(order, now=LATE_DECEMBER)
    client.force_login(staff["agent"])

    body = client.get("/console/", **EN).content.decode()

    row = body.split(f'id="case-{flagged.pk}"', 1)[1].split("</tr>", 1)[0]
    assert MARKER in row
