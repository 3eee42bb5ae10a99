"""Each report's figures on the desk of tests/reports/desk.py, against answers worked out
by hand there (counts, sums per currency, medians in business hours across a holiday)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from refunddesk.policy.money import Money
from refunddesk.reports import catalogue
from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.sections import Context
from refunddesk.reports.timings import refresh_timings
from tests.reports.desk import CST, FIRST, LAST, NOW, build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def desk():
    made = build()
    refresh_timings(NOW)
    return made


def rows(name, context):
    return catalogue.table(name, context).rows


def by_first(name, context):
    return {row[0]: row[1:] for row in rows(name, context)}


def test_requests_are_counted_on_the_day_and_channel_they_arrived(desk):
    table = catalogue.table("volume", desk.context())
    keys = [column.key for column in table.columns]
    assert keys == ["day", "portal", "agent", "email", "total"]
    per_day = {row[0]: row[1:] for row in table.rows}
    assert len(per_day) == 10
    assert per_day[date(2026, 4, 1)] == (0, 0, 1, 1)
    assert per_day[date(2026, 4, 2)] == (1, 0, 0, 1)
    assert per_day[date(2026, 4, 5)] == (0, 1, 0, 1)
    assert per_day[date(2026, 4, 4)] == (0, 0, 0, 0)
    assert sum(row[-1] for row in table.rows) == 6  # F came before the range


def test_a_day_is_a_day_of_the_viewers_time_zone(desk):
    # B came at 09:00 in Shanghai on 1 April: 01:00 UTC, still 1 April; at UTC-10 it was
    # the evening of 31 March, outside the range.
    honolulu = Context(ReportFilters(start=date(2026, 4, 1), end=date(2026, 4, 10),
                                     tz=ZoneInfo("Pacific/Honolulu")), NOW, "en")
    per_day = by_first("volume", honolulu)
    assert sum(row[-1] for row in per_day.values()) == 5
    assert per_day[date(2026, 4, 1)][-1] == 1  # C: 2 April 09:00 in Shanghai


def test_the_backlog_is_each_days_open_cases_walked_back_from_today(desk):
    per_day = by_first("backlog", desk.context())
    # submitted, in review, awaiting, appealed, approved, paying, payout failed, open
    assert per_day[date(2026, 4, 1)] == (0, 1, 1, 0, 0, 0, 0, 2)
    assert per_day[date(2026, 4, 2)] == (0, 1, 0, 0, 0, 0, 0, 1)
    assert per_day[date(2026, 4, 3)] == (0, 2, 0, 1, 0, 0, 0, 3)
    assert per_day[date(2026, 4, 6)] == (0, 3, 0, 1, 0, 0, 0, 4)
    assert per_day[date(2026, 4, 7)] == (0, 1, 0, 0, 0, 2, 0, 3)
    assert per_day[date(2026, 4, 8)] == (0, 1, 0, 1, 0, 1, 0, 3)
    assert per_day[date(2026, 4, 10)] == (0, 2, 0, 0, 0, 1, 0, 3)


def test_outcomes_tell_full_partial_rejected_withdrawn_and_open_apart(desk):
    outcomes = {str(name): (cases, share) for name, cases, share in
                rows("outcomes", desk.context())}
    assert outcomes["Approved in full"] == (2, pytest.approx(2 / 6))  # A, C on appeal
    assert outcomes["Approved in part"][0] == 1  # B
    assert outcomes["Rejected"][0] == 1  # G, its appeal refused
    assert outcomes["Withdrawn"][0] == 1
    assert outcomes["Closed without a decision"][0] == 0
    assert outcomes["Not decided yet"][0] == 1  # E


def test_approval_rate_and_amounts_are_per_currency_never_added_across(desk):
    per_currency = by_first("approvals", desk.context())
    assert per_currency["CNY"] == (2, 1, pytest.approx(2 / 3), Money(30000, "CNY"),
                                   Money(25000, "CNY"), pytest.approx(25000 / 30000))
    assert per_currency["USD"] == (1, 0, 1.0, Money(5000, "USD"), Money(6000, "USD"),
                                   pytest.approx(1.2))


def test_reasons_count_what_customers_gave_and_why_staff_refused(desk):
    asked = by_first("reasons", desk.context())
    assert asked["Not given"][0] == 4
    assert asked["Changed my mind"][0] == 1
    assert asked["The service did not work"][0] == 1
    refused = by_first("rejection_reasons", desk.context())
    # C's rejection counts although its appeal overturned it: it was a rejection.
    assert sum(row[0] for row in refused.values()) == 2


def test_service_times_are_medians_in_business_hours_without_holidays_or_waiting(desk):
    measures = {str(row[0]): row[1:] for row in rows("service_times", desk.context())}
    # First responses 1, 2, 10 (6 April is a holiday) and 12 hours.
    assert measures["First response"] == (4, pytest.approx(6.0), pytest.approx(11.4),
                                           pytest.approx(3 / 5))
    # Decisions 5 (a day of waiting left out), 10, 12 and 24 hours (across Qingming).
    assert measures["Decision"] == (4, pytest.approx(11.0), pytest.approx(20.4),
                                    pytest.approx(3 / 4))
    assert measures["Money back"] == (2, pytest.approx(27.0), pytest.approx(43.8), None)


def test_overdue_now_counts_open_cases_past_their_clock(desk):
    overdue = by_first("overdue", desk.context())
    assert overdue["In review"] == (1,)
    assert overdue["Total"] == (1,)


def test_money_refunded_is_what_arrived_per_currency_and_route(desk):
    assert rows("refunded", desk.context()) == [("CNY", 2, Money(25000, "CNY"))]
    routes = {row[1]: row[2:] for row in rows("refunded_by_route", desk.context())}
    assert routes == {"To the account balance": (1, Money(15000, "CNY")),
                      "Original payment method · sandbox": (1, Money(10000, "CNY"))}


def test_approved_money_is_counted_per_product_and_rule(desk):
    products = {(row[0], row[1]): row[2:] for row in rows("approved_by_product", desk.context())}
    assert products == {("CNY", "Harbor VPN"): (1, Money(15000, "CNY")),
                        ("CNY", "Cloud Virtual Machine"): (1, Money(10000, "CNY")),
                        ("USD", "Cloud Virtual Machine"): (1, Money(6000, "USD"))}
    rules = {(row[0], row[1]): row[2:] for row in rows("approved_by_rule", desk.context())}
    assert rules[("CNY", "money_back")] == (1, Money(15000, "CNY"))
    assert rules[("USD", "normal_refund")] == (1, Money(6000, "USD"))


def test_failed_payouts_are_listed_with_their_reason(desk):
    assert rows("failed_payouts", desk.context()) == [
        ("sandbox", "expired_card", 1, Money(6000, "USD"))]


def test_staff_figures_count_decisions_times_overrides_and_confirmations(desk):
    staff = by_first("agents", desk.context())
    # The agent proposed A (24 h to its decision; the reviewer confirmed it), approved B
    # (5 h) and rejected C (12 h); the reviewer approved C on appeal above the assessment,
    # rejected G (10 h) and refused G's appeal. Decisions on appeal have no time to
    # decision, and C's first decision stays the agent's.
    assert staff["desk-agent"] == (3, 2, 1, pytest.approx(12.0), 0, 0)
    assert staff["desk-reviewer"] == (3, 1, 2, pytest.approx(10.0), 1, 1)


def test_an_agents_own_figures_hold_only_their_row(desk):
    staff = by_first("agents", desk.context(agent_id=desk.agent.pk))
    assert list(staff) == ["desk-agent"]


def test_appeals_count_overturned_and_upheld(desk):
    appeals = {str(row[0]): row[1:] for row in rows("appeals", desk.context())}
    assert appeals["Appeals"] == (2, None)
    assert appeals["Overturned (approved on appeal)"] == (1, 0.5)
    assert appeals["Upheld"] == (1, 0.5)
    assert appeals["Waiting for a decision"] == (0, None)


def test_filters_narrow_every_report(desk):
    context = desk.context(currency="USD")
    assert sum(row[-1] for row in rows("volume", context)) == 1  # C
    context = desk.context(product="vpn")
    assert by_first("approvals", context) == {
        "CNY": (1, 0, 1.0, Money(20000, "CNY"), Money(15000, "CNY"), 0.75)}
    context = desk.context(channel="agent")
    assert {str(row[0]): row[1] for row in rows("outcomes", context)}["Withdrawn"] == 1
    context = desk.context(version="tencent-cloud@2")
    assert sum(row[-1] for row in rows("volume", context)) == 0
    context = desk.context(policy="tencent-cloud")
    assert sum(row[-1] for row in rows("volume", context)) == 6


def test_every_report_builds_on_an_empty_desk_with_nothing_to_draw():
    context = Context(ReportFilters(start=FIRST, end=LAST, tz=CST), NOW, "zh-hans")
    for report in catalogue.REPORTS.values():
        for section in report.build(context):
            assert section.chart is None or not section.chart.has_data, section.table.name
