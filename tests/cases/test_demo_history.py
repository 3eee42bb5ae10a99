"""The demo's history: two months of requests worked through the real actions at moments of
the past, so that every report of the console has figures on the first start."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from refunddesk.billing.demo import load_demo_data
from refunddesk.cases.demo import open_demo_cases
from refunddesk.cases.demo_history import FIRST_DAY, open_demo_history
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, RefundCase
from refunddesk.cases.states import State
from refunddesk.core.demo_staff import ensure_demo_customers, ensure_demo_staff
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.policy.money import Money
from refunddesk.reports import catalogue
from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.sections import Context
from refunddesk.reports.timings import refresh_timings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CST = ZoneInfo("Asia/Shanghai")
# The demo data, and so the history, are made for a moment; a fixed one keeps what these
# tests find the same from day to day (the demo itself uses the moment it starts).
NOW = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def demo_for(now, settings):
    """The demo data, its customers' logins and staff, as the demo command makes them."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    load_demo_data(seed=2026, now=now)
    ensure_demo_staff()
    ensure_demo_customers()
    return now


@pytest.fixture
def demo(settings):
    return demo_for(NOW, settings)


@pytest.fixture
def demo_today(settings):
    return demo_for(timezone.now(), settings)


def first_start(now):
    """What the demo command does on its first start, in its order."""
    opened = open_demo_history(now, seed=2026)
    open_demo_cases(now, seed=2026, after_history=True)
    refresh_timings(now)
    return opened


def history_cases(now):
    # The demo's queue (cases/demo.py) opens its cases over the last four days.
    return RefundCase.objects.filter(submitted_at__lt=now - timedelta(days=4, hours=2))


def actor_name(event):
    return event.actor.username if event.actor else event.data.get("system", "customer")


def fingerprint():
    """Everything the history wrote, without what is random by design (tracking numbers,
    row ids)."""
    cases = []
    for case in RefundCase.objects.select_related("order").order_by("submitted_at", "pk"):
        events = [(event.action, event.at, event.from_state, event.to_state, actor_name(event))
                  for event in case.events.order_by("at", "id").select_related("actor")]
        payouts = sorted(Payout.objects.filter(case=case).values_list(
            "state", "amount_minor", "destination", "settled_at"))
        cases.append((case.order.external_id, case.channel, case.state, case.policy_ref,
                      case.approved_total_minor, events, payouts))
    return cases


def test_the_same_seed_writes_the_same_history(demo_today):
    now = demo_today
    runs = []
    for _ in range(2):
        with transaction.atomic():
            opened = open_demo_history(now, seed=2026)
            runs.append((opened, fingerprint()))
            transaction.set_rollback(True)  # the second run starts from the same data

    assert runs[0][0] >= 100
    assert runs[0] == runs[1]


def test_every_report_table_has_figures_from_the_demo_on_its_first_start(demo):
    now = demo

    opened = first_start(now)

    assert 120 <= opened <= 200
    today = now.astimezone(CST).date()
    filters = ReportFilters(start=today - timedelta(days=FIRST_DAY + 1), end=today, tz=CST)
    empty = []
    for name in catalogue.TABLES:
        table = catalogue.table(name, Context(filters, now, "en"))
        if not any(is_figure(cell) for row in table.rows for cell in row):
            empty.append(name)
    assert empty == []


def is_figure(cell):
    if isinstance(cell, Money):
        return cell.minor != 0
    return isinstance(cell, int | float) and not isinstance(cell, bool) and cell != 0


def test_every_change_of_a_history_case_came_with_its_event_in_the_past(demo):
    now = demo

    first_start(now)

    for case in history_cases(now).prefetch_related("events"):
        written = sorted(case.events.all(), key=lambda event: event.id)
        # written in the order they happened
        assert [event.at for event in written] == sorted(event.at for event in written)
        events = sorted(written, key=lambda event: (event.at, event.id))
        assert events[0].action == CaseEventType.SUBMITTED
        assert events[0].at == case.submitted_at
        state = ""
        for event in events:
            assert event.from_state == state, (case.pk, event.action)
            assert case.submitted_at <= event.at < now
            state = event.to_state
        assert state == case.state
        decisions = [event.at for event in events
                     if event.action in (CaseEventType.APPROVED, CaseEventType.REJECTED)]
        assert case.decided_at == (decisions[-1] if decisions else None)
        appeals = [event.at for event in events if event.action == CaseEventType.APPEALED]
        assert case.appealed_at == (appeals[-1] if appeals else None)
    paid = Payout.objects.filter(case__in=history_cases(now), state=PayoutState.SUCCEEDED)
    assert paid.exists()
    assert not paid.filter(settled_at__gte=now).exists()


def test_the_history_holds_every_kind_of_work_the_reports_count(demo):
    now = demo

    first_start(now)

    cases = history_cases(now)
    events = Counter(CaseEvent.objects.filter(case__in=cases).values_list("action", flat=True))
    assert {"portal", "agent", "email", "api"} <= set(cases.values_list("channel", flat=True))
    assert {State.REFUNDED, State.CLOSED, State.WITHDRAWN} <= set(
        cases.values_list("state", flat=True))
    # four eyes: an approval proposed by one person and confirmed by another
    confirmed = CaseEvent.objects.filter(case__in=cases, action=CaseEventType.APPROVED,
                                         data__has_key="proposed_by")
    assert confirmed.exists()
    assert all(event.actor.username != event.data["proposed_by"]
               for event in confirmed.select_related("actor"))
    # asked, answered or not; appealed and decided both ways, by someone else
    for kind in (CaseEventType.INFORMATION_REQUESTED, CaseEventType.SUPPLEMENTED,
                 CaseEventType.CLOSED_INFO_DEADLINE, CaseEventType.ESCALATED,
                 CaseEventType.CLOSED_APPEAL_WINDOW, CaseEventType.WITHDRAWN):
        assert events[kind], kind
    appealed = cases.filter(appealed_at__isnull=False)
    assert appealed.filter(state=State.REFUNDED).exists()
    assert appealed.filter(state=State.CLOSED).exists()
    heard = appealed.exclude(state=State.APPEALED)
    assert not heard.filter(decided_by=F("appeal_of_decision_by")).exists()
    # in part, above the assessment, and several reasons to refuse
    assert cases.filter(approved_total_minor__gt=0,
                        approved_total_minor__lt=F("assessed_total_minor")).exists()
    assert cases.filter(approved_total_minor__gt=F("assessed_total_minor")).exists()
    assert cases.exclude(rejection_reason=None).values("rejection_reason").distinct().count() >= 3
    # a refund to an expired card failed
    assert Payout.objects.filter(case__in=cases, state=PayoutState.FAILED,
                                 last_error_code="expired_card").exists()
