"""`refunddesk assess` and `refunddesk policies`: JSON out, clear errors with exit status 2."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import EXAMPLE_ORDER


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def order_file(tmp_path):
    path = tmp_path / "order.json"
    path.write_text(json.dumps(EXAMPLE_ORDER, ensure_ascii=False), encoding="utf-8")
    return path


def refused(*args):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    return str(caught.value)


def test_assess_prints_the_assessment_of_the_design_example(order_file):
    output = run("assess", "--policy", "tencent-cloud", "--order", str(order_file),
                 "--as-of", "2026-03-04T12:00:00+08:00", "--locale", "en")

    result = json.loads(output)
    assert (result["policy"], result["outcome"], result["total"]) == (
        "tencent-cloud@1", "full", "900.00")
    assert result["explanation"][-1] == (
        "Under this policy the refund is approved at once, without waiting for an agent.")


def test_assess_explains_in_chinese_by_default(order_file):
    result = json.loads(run("assess", "--policy", "tencent-cloud", "--order", str(order_file),
                            "--as-of", "2026-03-04T12:00:00+08:00"))

    assert result["explanation"][-1] == "按此政策，退款即时批准，无需等待客服审核。"


def test_assess_takes_a_policy_file(order_file, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text('id = "flat"\nversion = 3\nname = { en = "Flat", zh-Hans = "统一" }\n'
                      '[[rules]]\nid = "all"\nfunding = ["cash"]\nhandling = "review"\n')

    result = json.loads(run("assess", "--policy", str(policy), "--order", str(order_file),
                            "--as-of", "2026-03-04T12:00:00+08:00"))

    assert (result["policy"], result["total"], result["needs_review"]) == (
        "flat@3", "900.00", True)


def test_assess_refuses_an_unknown_preset(order_file):
    message = refused("assess", "--policy", "no-such", "--order", str(order_file))

    assert "no-such: neither a preset (alibaba-cloud, huawei-cloud" in message


def test_assess_refuses_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")

    assert "is not valid JSON" in refused("assess", "--policy", "tencent-cloud", "--order",
                                          str(bad))


def test_assess_names_a_missing_field(tmp_path):
    facts = json.loads(json.dumps(EXAMPLE_ORDER))
    del facts["lines"][0]["amount_paid"]
    path = tmp_path / "o.json"
    path.write_text(json.dumps(facts))

    assert "lines[0].amount_paid: required" in refused(
        "assess", "--policy", "tencent-cloud", "--order", str(path))


def test_assess_refuses_a_time_without_offset(order_file):
    assert "--as-of: needs a UTC offset" in refused(
        "assess", "--policy", "tencent-cloud", "--order", str(order_file), "--as-of",
        "2026-03-04T12:00:00")


def test_assess_refuses_an_unknown_line(order_file):
    assert "no line 9 in order" in refused(
        "assess", "--policy", "tencent-cloud", "--order", str(order_file), "--lines", "9")


def test_assess_refuses_a_missing_order_file():
    assert "cannot read nowhere.json" in refused(
        "assess", "--policy", "tencent-cloud", "--order", "nowhere.json")


def test_policies_list_names_every_preset_with_its_version():
    output = run("policies", "list")

    for ref in ("alibaba-cloud@1", "huawei-cloud@1", "tencent-cloud@1", "vpn-30-day@1"):
        assert ref in output


def test_policies_show_prints_the_preset_file():
    assert 'id = "huawei-cloud"' in run("policies", "show", "huawei-cloud")


def test_policies_check_accepts_a_valid_file_and_names_each_problem_of_a_bad_one(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nversion = 1\nname = { en = "X", zh-Hans = "X" }\n'
                   '[[rules]]\nid = "r"\nfunding = ["cash"]\n'
                   'window = { start = "placed_at", length = "5 days" }\n')

    assert "valid, 2 rules" in run("policies", "check",
                                   "src/refunddesk/policy/presets/vpn-30-day.toml")
    assert refused("policies", "check", str(bad)) == (
        'bad.toml: rules[0].window.length: expected a duration like "5d" or "120h" or "6mo" '
        'or "1y"')
