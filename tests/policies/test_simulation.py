"""The policy simulator (policies/simulation.py and `refunddesk simulate-policy`): every case
of a period assessed again, from the facts it was assessed with, under another version."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, Channel, RefundCase
from refunddesk.policies.simulation import simulate
from refunddesk.policy.money import format_amount
from refunddesk.policy.presets import load_preset
from refunddesk.policy.schema import policy_from_toml
from tests.cases.conftest import import_order
from tests.conftest import EXAMPLE_ORDER
from tests.policies.conftest import tencent

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31), "tz": CST}


def an_order(order_id, account="acct-1001", placed_day=1):
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts["id"] = order_id
    facts["account"]["id"] = account
    facts["account"]["email"] = f"{account}@example.com"
    start = datetime(2026, 3, placed_day, 10, 5, tzinfo=CST)
    facts["placed_at"] = (start - timedelta(minutes=5)).isoformat()
    facts["lines"][0]["service_start"] = start.isoformat()
    facts["lines"][0]["service_end"] = start.replace(year=2027).isoformat()
    facts["payments"][0]["paid_at"] = (start - timedelta(minutes=4)).isoformat()
    return import_order(facts)


def apply(order, day, hour=12):
    return actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=datetime(2026, 3, day, hour, tzinfo=CST))


@pytest.fixture
def march():
    """Li Lei's first server refunded in its five days (900.00), his second a day later
    (the five days come once per product: prorated, reviewed), and Han Meimei's applied
    for on day 7, after her five days (prorated)."""
    first = apply(an_order("TC-LI-1"), 4)
    second = apply(an_order("TC-LI-2", placed_day=2), 5)
    late = apply(an_order("TC-HAN-1", account="acct-2002"), 8)
    return first, second, late


def widened(days):
    return policy_from_toml(tencent(2).replace('length = "5d"',
                                                         f'length = "{days}d"', 1))


def test_the_version_the_cases_were_assessed_with_changes_nothing(march):
    first, second, _late = march
    assert first.assessment["rule"] == "five_day_no_reason"
    assert second.assessment["rule"] == "normal_refund"  # his second stays second
    result = simulate(load_preset("tencent-cloud"), **MARCH)
    assert result.cases == 3
    assert result.changed == 0
    before, after = result.totals["CNY"]
    assert before == after == sum(case.assessed_total_minor for case in march)


def test_a_widened_window_changes_exactly_the_cases_it_reaches(march):
    late = march[2]
    result = simulate(widened(10), **MARCH)
    assert [change.tracking_number for change in result.changes] == [late.tracking_number]
    change = result.changes[0]
    assert change.before.rule == "normal_refund"
    assert change.after.rule == "five_day_no_reason"
    assert change.after.total == 90000  # the cash paid back; the voucher is not
    assert result.totals["CNY"][1] - result.totals["CNY"][0] == 90000 - late.assessed_total_minor
    assert result.rules[("CNY", "five_day_no_reason")] == [90000, 180000]


def test_the_history_is_the_one_the_case_was_assessed_with(march):
    # Under a window of ten days, Li Lei's second server would still be his second: the
    # first refund was granted before it, so the quota of one is used.
    result = simulate(widened(10), **MARCH)
    assert march[1].tracking_number not in {c.tracking_number for c in result.changes}


def test_the_period_and_the_product_narrow_the_cases(march):
    assert simulate(widened(10), start=date(2026, 3, 5), end=date(2026, 3, 5),
                    tz=CST).cases == 1
    assert simulate(widened(10), product="cdn", **MARCH).cases == 0
    assert simulate(widened(10), product="cvm", **MARCH).cases == 3


def test_a_mass_compensations_cases_are_not_simulated(march):
    # they name the policy for their payouts only: no policy assessed them
    RefundCase.objects.filter(pk=march[2].pk).update(channel=Channel.BULK)
    assert simulate(widened(10), **MARCH).cases == 2


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        simulate(widened(10), start=date(2026, 3, 5), end=date(2026, 3, 4), tz=CST)


def test_the_simulator_writes_nothing(march):
    cases = list(RefundCase.objects.order_by("pk").values())
    events = CaseEvent.objects.count()
    simulate(widened(10), **MARCH)
    assert list(RefundCase.objects.order_by("pk").values()) == cases
    assert CaseEvent.objects.count() == events


def run(*args):
    out = StringIO()
    call_command("simulate-policy", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_the_summary_as_json(march, tmp_path):
    draft = tmp_path / "draft.toml"
    draft.write_text(tencent(2).replace('length = "5d"', 'length = "10d"', 1), encoding="utf-8")
    summary = run(str(draft), "--from", "2026-03-01", "--to", "2026-03-31")
    assert summary["policy"] == "tencent-cloud@2"
    assert (summary["cases"], summary["changed"], summary["failed"]) == (3, 1, 0)
    late = march[2]
    before = sum(case.assessed_total_minor for case in march)
    after = before - late.assessed_total_minor + 90000
    assert summary["currencies"]["CNY"] == {
        "total_before": format_amount(before, "CNY"), "total_after": format_amount(after, "CNY"),
        "difference": format_amount(after - before, "CNY")}
    assert summary["changed_cases"][0]["tracking_number"] == late.tracking_number
    assert summary["changed_cases"][0]["after"]["rule"] == "five_day_no_reason"


def test_the_command_simulates_a_stored_version_and_the_preset_itself(march):
    summary = run("tencent-cloud@1", "--from", "2026-03-01", "--to", "2026-03-31")
    assert summary["changed"] == 0
    totals = summary["currencies"]["CNY"]
    assert totals["total_before"] == totals["total_after"]


@pytest.mark.parametrize(("args", "message"), [
    (["missing.toml", "--from", "2026-03-01", "--to", "2026-03-31"], "cannot read"),
    (["tencent-cloud@9", "--from", "2026-03-01", "--to", "2026-03-31"], "no such"),
    (["tencent-cloud", "--from", "2026-03-01", "--to", "2026-03-31"], "neither"),
    (["tencent-cloud@1", "--from", "2026-03-31", "--to", "2026-03-01"], "before"),
    (["tencent-cloud@1", "--from", "2026-03-01", "--to", "2026-03-31", "--tz", "Mars/Base"],
     "time zone"),
])
def test_bad_arguments_are_refused_with_a_reason(args, message, db):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_an_invalid_policy_file_is_refused_with_its_problem(tmp_path, db):
    draft = tmp_path / "draft.toml"
    draft.write_text('id = "tencent-cloud"\nversion = "two"\n', encoding="utf-8")
    with pytest.raises(CommandError, match="not a valid policy"):
        run(str(draft), "--from", "2026-03-01", "--to", "2026-03-31")
