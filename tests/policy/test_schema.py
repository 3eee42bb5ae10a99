"""The policy file format: every mistake is refused with a message that names the key."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import pytest

from refunddesk.policy.presets import load_policy, load_preset, preset_ids
from refunddesk.policy.schema import PolicyError, policy_from_dict, policy_from_toml

MINIMAL: dict[str, Any] = {
    "id": "shop", "version": 1, "name": {"en": "Shop", "zh-Hans": "商店"},
    "rules": [{"id": "first", "funding": ["cash"]}, {"id": "second", "funding": ["cash"]}],
}

MINIMAL_TOML = """\
id = "shop"
version = 3
time_zone = "Europe/Berlin"

[name]
en = "Shop"
zh-Hans = "商店"

[[rules]]
id = "money_back"
when = { kind = ["new"] }
window = { start = "placed_at", length = "14d", end = "inclusive" }
quota = { count = 1, per = "account", period = "rolling_months", months = 6 }
funding = ["cash", "balance"]
handling = "approve"
"""


def problems_of(change) -> list[str]:
    data = copy.deepcopy(MINIMAL)
    change(data)
    with pytest.raises(PolicyError) as error:
        policy_from_dict(data)
    return error.value.problems


def test_a_minimal_policy_file_is_read_with_its_settings():
    # given a small but complete policy file
    # when it is read
    policy = policy_from_toml(MINIMAL_TOML)
    # then its settings are there, with the defaults filled in
    assert policy.ref == "shop@3"
    assert policy.time_zone == "Europe/Berlin"
    rule = policy.rules[0]
    assert (rule.window.length.count, rule.window.length.unit) == (14, "d")
    assert (rule.quota.per, rule.quota.period, rule.quota.months) == (
        "account", "rolling_months", 6)
    assert policy.destination.cash == "original"


@pytest.mark.parametrize("preset", ["alibaba-cloud", "huawei-cloud", "tencent-cloud",
                                    "vpn-30-day"])
def test_every_preset_loads_and_is_named_by_its_id_and_version(preset):
    # given a preset shipped with RefundDesk
    # when it is loaded by id, directly and through load_policy
    policy = load_preset(preset)
    # then it is valid and refers to itself as id@version
    assert policy.ref == f"{preset}@1"
    assert load_policy(preset) is policy


def test_the_presets_are_the_four_published_policies():
    # given the presets folder, when its ids are listed, then the four policies are there
    assert preset_ids() == ("alibaba-cloud", "huawei-cloud", "tencent-cloud", "vpn-30-day")


def test_a_window_length_written_in_words_is_refused_with_the_forms_it_accepts():
    # given the second rule's window written as "5 days"
    # when the policy is read
    problems = problems_of(lambda d: d["rules"][1].update(
        window={"start": "placed_at", "length": "5 days"}))
    # then the problem names the key and shows the accepted forms
    assert problems == [
        'rules[1].window.length: expected a duration like "5d" or "120h" or "6mo" or "1y"']


def test_an_sla_duration_accepts_business_days_and_says_so():
    # given a payout time written as "3 weeks"
    problems = problems_of(lambda d: d.update(sla={"payout": {"card": "3 weeks"}}))
    # then the message offers the business-day form that SLAs accept
    assert problems == ['sla.payout.card: expected a duration like "5d" or "120h" or "3bd"']


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d["rules"][1].update(colour="red"), "rules[1].colour: unknown key"),
    (lambda d: d["rules"][0].update(when={"kind": ["new"], "weekday": "monday"}),
     "rules[0].when.weekday: unknown key"),
])
def test_an_unknown_key_is_named_where_it_stands(change, problem):
    # given a key the format does not have, when the policy is read, then it is named
    assert problems_of(change) == [problem]


def test_a_rule_without_funding_is_refused():
    # given a rule that does not say which funding comes back
    problems = problems_of(lambda d: d["rules"][0].pop("funding"))
    # then the missing key is named
    assert problems == ["rules[0].funding: required"]


def test_a_rule_with_empty_or_unknown_funding_is_refused():
    assert problems_of(lambda d: d["rules"][0].update(funding=[])) == [
        "rules[0].funding: must not be empty"]
    assert problems_of(lambda d: d["rules"][0].update(funding=["cash", "cheque"])) == [
        'rules[0].funding[1]: expected one of "cash", "balance", "gift", "voucher"']


def test_a_handling_outside_the_list_names_the_allowed_ones():
    # given a handling "maybe"
    problems = problems_of(lambda d: d["rules"][0].update(handling="maybe"))
    # then the allowed values are listed, quoted as TOML writes them
    assert problems == ['rules[0].handling: expected one of "approve", "review", "suggest"']


def test_a_document_code_no_upload_slot_knows_is_refused_with_the_known_ones():
    problems = problems_of(lambda d: d["rules"][0].update(documents=["passport_scan"]))

    assert len(problems) == 1
    assert problems[0].startswith("rules[0].documents[0]: expected one of ")
    assert '"payment_proof"' in problems[0] and '"invoice_return"' in problems[0]


def test_several_problems_are_reported_together():
    # given two mistakes in one rule
    problems = problems_of(lambda d: d["rules"][0].update(handling="maybe",
                                                          funding=["cheque"]))
    # then both are reported, so the author fixes the file in one go
    assert problems == [
        'rules[0].funding[0]: expected one of "cash", "balance", "gift", "voucher"',
        'rules[0].handling: expected one of "approve", "review", "suggest"']


def test_a_rule_id_used_twice_is_refused():
    # given two rules with the same id
    problems = problems_of(lambda d: d["rules"][1].update(id="first"))
    # then the duplicate is named under the rules key
    assert problems == ['rules: rule id "first" appears twice']


def test_a_rule_id_must_be_lower_case():
    assert problems_of(lambda d: d["rules"][0].update(id="Money-Back")) == [
        "rules[0].id: use lower-case letters, digits and _ (ids) or - (policy ids)"]


@pytest.mark.parametrize(("threshold", "problem"), [
    ({"XYZ": "50000.00"}, "four_eyes_above: XYZ: not an ISO 4217 currency code: 'XYZ'"),
    ({"cny": "50000.00"}, "four_eyes_above: cny: not an ISO 4217 currency code: 'cny'"),
    ({"CNY": "1.001"}, "four_eyes_above: CNY: more decimal places than CNY has (2)"),
    ({"CNY": 50000}, 'four_eyes_above: CNY: not a decimal amount (give it as a string, '
                     'like "960.00")'),
    ({}, 'four_eyes_above: expected a table of amounts by currency, like '
         '{ CNY = "50000.00" }'),
])
def test_a_four_eyes_threshold_must_be_an_exact_amount_in_a_known_currency(threshold,
                                                                            problem):
    assert problems_of(lambda d: d.update(four_eyes_above=threshold)) == [problem]


@pytest.mark.parametrize("quota", [
    {"count": 1, "period": "rolling_months"},
    {"count": 1, "period": "calendar_year", "months": 6},
])
def test_a_quota_has_months_exactly_when_its_period_is_rolling_months(quota):
    assert problems_of(lambda d: d["rules"][0].update(quota=quota)) == [
        'rules[0].quota: months is set exactly when period is "rolling_months"']


def test_a_quota_of_zero_is_refused():
    # (the text is pydantic's own, not the house style of the other messages)
    assert problems_of(lambda d: d["rules"][0].update(quota={"count": 0})) == [
        "rules[0].quota.count: must be at least 1"]


def test_text_that_is_not_toml_is_refused_with_the_place_of_the_mistake():
    # given a file with a key and no value on line 2
    with pytest.raises(PolicyError) as error:
        policy_from_toml('id = "x"\nversion = \n')
    # then the TOML parser's position is passed on
    assert error.value.problems == ["not valid TOML: Invalid value (at line 2, column 11)"]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd"])
def test_an_unknown_time_zone_is_refused(zone):
    assert problems_of(lambda d: d.update(time_zone=zone)) == [
        f'time_zone: unknown time zone "{zone}"']


def test_calendar_days_need_a_length_in_days():
    # given a window counted in calendar days but written in hours
    problems = problems_of(lambda d: d["rules"][0].update(
        window={"start": "placed_at", "length": "120h", "calendar_days": True}))
    # then the window is named with the reason
    assert problems == ['rules[0].window: calendar_days needs a length in days, like "7d"']


@pytest.mark.parametrize("fee", [{}, {"base": "amount_paid"}])
def test_a_fee_needs_a_percent_or_bands(fee):
    assert problems_of(lambda d: d["rules"][0].update(fee=fee)) == [
        "rules[0].fee: give percent, bands, or both (percent is then the rate when no band "
        "matches)"]


def test_a_penalty_factor_must_be_a_quoted_decimal():
    # given a factor written as a float, which would already have lost exactness
    problems = problems_of(lambda d: d["rules"][0].update(
        penalty={"factor": 1.5, "while_used_under": "30d"}))
    assert problems == ['rules[0].penalty.factor: expected a decimal number in quotes, like '
                        '"1.5"']


def test_a_policy_without_rules_is_refused():
    assert problems_of(lambda d: d.update(rules=[])) == ["rules: must not be empty"]


def test_loading_a_name_that_is_neither_a_preset_nor_a_file_lists_the_presets():
    # given a policy name that matches nothing
    with pytest.raises(PolicyError) as error:
        load_policy("no-such")
    # then the message says so and names the presets there are
    assert error.value.problems == [
        "no-such: neither a preset (alibaba-cloud, huawei-cloud, tencent-cloud, vpn-30-day) "
        "nor a policy file"]


def test_a_policy_file_with_mistakes_is_refused_with_its_file_name(tmp_path):
    # given a merchant's policy file with a bad window
    path = tmp_path / "shop.toml"
    path.write_text(MINIMAL_TOML.replace('length = "14d"', 'length = "two weeks"'),
                    encoding="utf-8")
    # when it is loaded by path
    with pytest.raises(PolicyError) as error:
        load_policy(str(path))
    # then the problem carries the file name and the key
    assert error.value.problems == [
        'shop.toml: rules[0].window.length: expected a duration like "5d" or "120h" or '
        '"6mo" or "1y"']


def test_the_policy_package_imports_nothing_from_django():
    # given a fresh interpreter (pytest-django has already imported Django into this one)
    code = ("import sys, refunddesk.policy.engine, refunddesk.policy.presets; "
            "loaded = [m for m in sys.modules if m.split('.')[0] == 'django']; "
            "assert not loaded, loaded")
    # when the engine and the presets are imported
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    # then no Django module was loaded
    assert result.returncode == 0, result.stderr


def test_a_file_nested_thousands_deep_is_refused_as_invalid_toml():
    with pytest.raises(PolicyError, match="nested too deeply"):
        policy_from_toml("a = " + "[" * 3000 + "]" * 3000)
