"""A policy in words and two versions compared (policy/describe.py, pure: no database):
every preset reads in both languages, and each kind of change is named as such with the
sentences before and after."""

import re

import pytest

from refunddesk.policy.describe import compare, describe, has_changes
from refunddesk.policy.presets import load_preset, preset_ids
from refunddesk.policy.schema import policy_from_toml
from tests.policies.conftest import tencent

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def changed(changes):
    return {change.key: change for change in changes if change.status != "unchanged"}


@pytest.mark.parametrize("locale", ["en", "zh-Hans"])
@pytest.mark.parametrize("preset", preset_ids())
def test_every_preset_reads_in_both_languages(preset, locale):
    # given a shipped preset
    policy = load_preset(preset)
    # when it is described
    parts = describe(policy, locale)
    # then every exclusion and rule has its part, in the file's order, each with sentences
    keys = [part.key for part in parts]
    assert keys == ["general",
                    *[f"exclusion:{e.reason}" for e in policy.exclusions],
                    *[f"rule:{r.id}" for r in policy.rules],
                    "destination", "sla", "appeals"]
    assert all(part.title and part.sentences for part in parts)
    # and the Chinese reads as Chinese, the English has none of it but the policy's own name
    sentences = [sentence for part in parts for sentence in part.sentences]
    if locale == "zh-Hans":
        assert all(CHINESE.search(sentence) for sentence in sentences)
    else:
        assert not any(CHINESE.search(sentence) for sentence in sentences[1:])


def test_the_tencent_preset_in_words():
    parts = {part.key: part for part in describe(load_preset("tencent-cloud"), "en")}
    assert parts["rule:five_day_no_reason"].sentences[:4] == (
        "Tried 1st of 2: the first rule that applies decides.",
        "Conditions: it is for new purchases only.",
        "Window: 5 days from the service start, its last moment included.",
        "Quota: 1 time for this product ever.",
    )
    assert "Refundable funding: cash, balance, gift credit." in \
        parts["rule:five_day_no_reason"].sentences
    assert parts["destination"].sentences[0] == "Cash goes back to the account balance."
    zh = {part.key: part for part in describe(load_preset("tencent-cloud"), "zh-Hans")}
    assert zh["rule:five_day_no_reason"].sentences[2] == "期限：自服务开始起 5 天，含终点。"


def test_fees_and_penalties_keep_the_numbers_as_written():
    huawei = {p.key: p for p in describe(load_preset("huawei-cloud"), "en")}
    assert any("15% for a term of 2 years, used up to 1 year" in sentence
               for sentence in huawei["rule:partial_refund"].sentences)
    alibaba = {p.key: p for p in describe(load_preset("alibaba-cloud"), "en")}
    assert "Penalty: consumption × 1.5 while less than 30 days is used." in \
        alibaba["rule:partial_refund"].sentences


def test_a_longer_window_shows_as_changed_with_both_sentences():
    # given version 2 of Tencent Cloud, whose five-day window is seven days
    before = load_preset("tencent-cloud")
    after = policy_from_toml(tencent(2).replace('length = "5d"', 'length = "7d"'))
    # when the two are compared
    changes = changed(compare(before, after, "en"))
    # then only the five-day rule changed, with the window's sentence before and after
    assert list(changes) == ["rule:five_day_no_reason"]
    change = changes["rule:five_day_no_reason"]
    assert change.status == "changed"
    assert change.removed_sentences == (
        "Window: 5 days from the service start, its last moment included.",)
    assert change.added_sentences == (
        "Window: 7 days from the service start, its last moment included.",)
    # and in Chinese too
    zh = changed(compare(before, after, "zh-Hans"))["rule:five_day_no_reason"]
    assert zh.removed_sentences == ("期限：自服务开始起 5 天，含终点。",)
    assert zh.added_sentences == ("期限：自服务开始起 7 天，含终点。",)


def test_the_same_policy_has_no_changes():
    policy = load_preset("vpn-30-day")
    changes = compare(policy, policy, "en")
    assert not has_changes(changes)
    assert {change.status for change in changes} == {"unchanged"}


def test_added_and_removed_parts_are_named_and_removed_ones_stay_in_their_section():
    # given a version that drops the promotion exclusion and adds a rule for renewals
    before = load_preset("tencent-cloud")
    text = tencent(2).replace(
        '[[exclusions]]\nreason = "promotion_non_refundable"\n'
        'when = { flags_any = ["promotion_non_refundable"] }\n', "")
    text = text.replace("[destination]", '[[rules]]\nid = "renewal_not_started"\n'
                        'when = { kind = ["renewal"], started = false }\n'
                        'funding = ["cash"]\nhandling = "approve"\n\n[destination]')
    after = policy_from_toml(text)
    # when compared
    changes = compare(before, after, "en")
    # then the exclusion is removed, the rule added, each listed in its own section
    statuses = {change.key: change.status for change in changes}
    assert statuses["exclusion:promotion_non_refundable"] == "removed"
    assert statuses["rule:renewal_not_started"] == "added"
    sections = [change.section for change in changes]
    assert sections == sorted(sections, key=["general", "exclusion", "rule", "destination",
                                             "sla", "appeals"].index)
    removed = next(c for c in changes if c.key == "exclusion:promotion_non_refundable")
    assert removed.after is None and removed.removed_sentences == removed.before.sentences


def test_rules_tried_in_another_order_are_changed():
    # the first rule that applies decides: swapping two rules changes what is refunded
    before = policy_from_toml(tencent(2))
    text = tencent(2)
    five_day_start = text.index("[[rules]]")
    normal_start = text.index("[[rules]]", five_day_start + 1)
    destination = text.index("[destination]")
    after = policy_from_toml(text[:five_day_start] + text[normal_start:destination]
                             + text[five_day_start:normal_start] + text[destination:])
    changes = changed(compare(before, after, "en"))
    assert set(changes) == {"rule:five_day_no_reason", "rule:normal_refund"}
    assert changes["rule:normal_refund"].title.startswith("Rule 1:")


def test_a_first_version_is_all_added():
    changes = compare(None, load_preset("alibaba-cloud"), "en")
    assert {change.status for change in changes} == {"added"}


def test_an_unknown_locale_is_refused():
    with pytest.raises(ValueError, match="locale"):
        describe(load_preset("tencent-cloud"), "fr")
