"""docs/policies.md and docs/examples/: what the guide shows is what `refunddesk assess` prints.

Each sample order in docs/examples/ has a `<name>.expected.json` holding the command's
arguments and the exact assessment it printed; these tests run the real command in-process
and compare. The guide's TOML snippets are parsed as policy files, and the figures it quotes
for other providers' quotas and for the presets' step-ups are recomputed here.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from refunddesk.policy.engine import assess
from refunddesk.policy.presets import load_policy
from refunddesk.policy.schema import Policy, policy_from_toml
from tests.policy.builders import at, earlier_refund, line, order, pay

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
GUIDE = ROOT / "docs" / "policies.md"
DOCUMENTED = sorted(EXAMPLES.glob("*.expected.json"))
NUMBER = re.compile(r"\d+(?:\.\d+)?")
TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Prepended to a TOML snippet that shows only some tables of a policy, so it parses alone;
# the rule comes first so that a snippet of `[rules.fee]` extends it.
SNIPPET_HEAD = ('id = "snippet"\nversion = 1\nname = { en = "snippet", zh-Hans = "片段" }\n'
                '[[rules]]\nid = "snippet_rule"\nfunding = ["cash"]\n')


def order_file(documented: Path) -> Path:
    return documented.with_name(documented.name.removesuffix(".expected.json") + ".json")


def documented_example(documented: Path) -> dict[str, Any]:
    return json.loads(documented.read_text(encoding="utf-8"))


def run_assess(documented: Path, *, locale: str, as_of: str | None = None) -> dict[str, Any]:
    """The JSON `refunddesk assess` prints for the documented arguments (as_of may be moved)."""
    example = documented_example(documented)
    policy = example["policy"]
    if policy.endswith(".toml"):  # a policy file, written relative to the repository
        policy = str(ROOT / policy)
    arguments = ["assess", "--policy", policy, "--order", str(order_file(documented)),
                 "--as-of", as_of or example["as_of"], "--locale", locale]
    if example["lines"]:
        arguments += ["--lines", example["lines"]]
    buffer = io.StringIO()
    call_command(*arguments, stdout=buffer)
    return json.loads(buffer.getvalue())


def example_id(documented: Path) -> str:
    return documented.name.removesuffix(".expected.json")


def guide_policy(policy_id: str) -> Policy:
    """The complete policy with `id = "<policy_id>"` among the guide's TOML blocks."""
    for block in TOML_BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        if block.startswith(f'id = "{policy_id}"'):
            return policy_from_toml(block)
    raise AssertionError(f"docs/policies.md has no TOML block for {policy_id}")


def quote(policy: Policy, facts: dict[str, Any], when: str) -> dict[str, Any]:
    return assess(policy, facts, as_of=at(when)).to_dict("en")


def test_there_is_at_least_one_documented_example_for_every_preset():
    policies = {documented_example(path)["policy"] for path in DOCUMENTED}

    assert {"tencent-cloud", "alibaba-cloud", "huawei-cloud", "vpn-30-day"} <= policies


@pytest.mark.parametrize("documented", DOCUMENTED, ids=example_id)
def test_the_command_prints_exactly_the_assessment_the_example_documents(documented):
    example = documented_example(documented)

    printed = run_assess(documented, locale=example["locale"])

    assert printed == example["assessment"]


@pytest.mark.parametrize("documented", DOCUMENTED, ids=example_id)
def test_the_chinese_assessment_carries_the_same_figures_as_the_english_one(documented):
    english = documented_example(documented)["assessment"]

    chinese = run_assess(documented, locale="zh-Hans")

    assert {k: v for k, v in chinese.items() if k != "explanation"} == {
        k: v for k, v in english.items() if k != "explanation"}
    assert len(chinese["explanation"]) == len(english["explanation"])
    for zh, en in zip(chinese["explanation"], english["explanation"], strict=True):
        assert sorted(NUMBER.findall(zh)) == sorted(NUMBER.findall(en)), (zh, en)
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in chinese["explanation"])


def test_every_example_file_is_referenced_in_the_policy_guide():
    guide = GUIDE.read_text(encoding="utf-8")

    unreferenced = [path.name for path in sorted(EXAMPLES.glob("*.json"))
                    if f"examples/{path.name}" not in guide]

    assert unreferenced == []


def test_every_sample_order_has_its_documented_assessment_and_every_assessment_its_order():
    orders = {path.name for path in EXAMPLES.glob("*.json")
              if not path.name.endswith(".expected.json")}
    documented = {order_file(path).name for path in DOCUMENTED}

    assert orders == documented


def test_every_toml_snippet_in_the_guide_is_a_valid_policy_or_part_of_one():
    blocks = TOML_BLOCK.findall(GUIDE.read_text(encoding="utf-8"))

    for block in blocks:
        if block.startswith("id = "):
            policy_from_toml(block)
        else:
            policy_from_toml(SNIPPET_HEAD + block)
    assert len(blocks) >= 5


def test_the_alibaba_refund_steps_up_when_the_first_month_factor_stops():
    documented = EXAMPLES / "alibaba-cloud-partial-refund-first-month.expected.json"

    day_29 = run_assess(documented, locale="en", as_of="2026-03-30T10:00:00+08:00")
    day_30 = run_assess(documented, locale="en", as_of="2026-03-30T10:00:01+08:00")

    assert (day_29["total"], day_29["lines"][0]["consumed"]) == ("1006.99", "143.01")
    assert (day_30["total"], day_30["lines"][0]["consumed"]) == ("1051.37", "98.63")


def test_the_huawei_refund_steps_up_when_the_first_year_of_a_three_year_term_ends():
    documented = EXAMPLES / "huawei-cloud-partial-refund-three-years.expected.json"

    one_year = run_assess(documented, locale="en", as_of="2026-01-10T14:30:30+08:00")
    one_second_more = run_assess(documented, locale="en", as_of="2026-01-10T14:30:31+08:00")

    assert [one_year["total"], one_year["lines"][0]["fee"]] == ["74400.00", "21600.00"]
    assert [one_second_more["total"], one_second_more["lines"][0]["fee"]] == [
        "81594.52", "14400.00"]


def policy_file(name: str) -> Policy:
    return load_policy(str(ROOT / "tests" / "policy" / "policies" / f"{name}.toml"))


def vpn_year(*, refunds: list[dict[str, Any]]) -> dict[str, Any]:
    return order(line(paid="47.88", start="2026-05-01 00:00:00+00:00",
                      end="2027-05-01 00:00:00+00:00", product="vpn", category="vpn"),
                 payments=[pay("P1", "card", "47.88")], placed="2026-05-01 00:00:00+00:00",
                 currency="USD", refunds=refunds)


def test_the_surfshark_figures_in_the_guide_allow_one_refund_in_six_months_and_two_ever():
    policy = policy_file("surfshark")
    asked = "2026-05-10 00:00:00+00:00"

    def refund(when):
        return earlier_refund(when, rule="initial_purchase_refund", product="vpn")

    assert quote(policy, vpn_year(refunds=[]), asked)["total"] == "47.88"
    assert quote(policy, vpn_year(refunds=[refund("2026-01-10 00:00:00+00:00")]),
                 asked)["total"] == "0.00"
    assert quote(policy, vpn_year(refunds=[refund("2025-10-10 00:00:00+00:00")]),
                 asked)["total"] == "47.88"
    assert quote(policy, vpn_year(refunds=[refund("2024-01-10 00:00:00+00:00"),
                                           refund("2025-01-10 00:00:00+00:00")]),
                 asked)["total"] == "0.00"


def test_the_savings_plan_figures_in_the_guide_need_seven_days_and_the_same_month():
    policy = policy_file("aws-savings-plans")

    def plan(placed, refunds=None):
        return order(line(paid="1000.00", start=placed, end="2027-06-01 00:00:00+00:00",
                          product="savings_plan", category="savings_plan"),
                     payments=[pay("P1", "card", "1000.00")], placed=placed, currency="USD",
                     refunds=refunds)

    ten_used = [earlier_refund(f"2026-0{1 + n % 4}-02 00:00:00+00:00",
                               rule="savings_plan_return", product="savings_plan")
                for n in range(10)]
    in_month = quote(policy, plan("2026-05-20 10:00:00+00:00"), "2026-05-27 10:00:00+00:00")
    next_month = quote(policy, plan("2026-05-28 10:00:00+00:00"), "2026-06-01 09:00:00+00:00")
    eleventh = quote(policy, plan("2026-05-20 10:00:00+00:00", ten_used),
                     "2026-05-21 10:00:00+00:00")

    assert in_month["total"] == "1000.00"
    assert next_month["total"] == "0.00"
    assert "rule.month_passed" in [step["code"] for step in next_month["steps"]]
    assert eleventh["total"] == "0.00"


def test_the_reservation_figures_in_the_guide_prorate_the_lower_price_under_the_cap():
    policy = policy_file("azure-reservations")
    facts = order(line(paid="36500.00", start="2026-01-01 00:00:00+00:00",
                       end="2027-01-01 00:00:00+00:00", product="reservation",
                       current_price="29200.00"),
                  payments=[pay("P1", "card", "36500.00")],
                  placed="2026-01-01 00:00:00+00:00", currency="USD",
                  refunds=[earlier_refund("2025-09-01 00:00:00+00:00",
                                          rule="reservation_refund", product="reservation",
                                          amount="30000.00", currency="USD")])

    result = quote(policy, facts, "2026-04-11 00:00:00+00:00")

    assert result["lines"][0] | {} == {
        "id": "1", "rule": "reservation_refund", "refundable": "20000.00",
        "eligible": "29200.00", "consumed": "8000.00", "fee": "0.00", "excluded": None}
    assert "line.capped" in [step["code"] for step in result["steps"]]


def test_the_guides_store_policy_gives_google_play_48_hours_and_sends_apple_buyers_away():
    policy = guide_policy("store-purchases")

    def bought(channel):
        return order(line(paid="9.99", start="2026-05-01 00:00:00+00:00",
                          end="2026-06-01 00:00:00+00:00", term=("month", 1), product="vpn"),
                     payments=[pay("P1", channel, "9.99")], placed="2026-05-01 00:00:00+00:00",
                     currency="USD", channel=channel)

    assert quote(policy, bought("google_play"), "2026-05-03 00:00:00+00:00")["total"] == "9.99"
    assert quote(policy, bought("google_play"), "2026-05-03 00:00:01+00:00")["total"] == "0.00"
    assert quote(policy, bought("app_store"), "2026-05-01 01:00:00+00:00")["lines"][0][
        "excluded"] == "app_store"
