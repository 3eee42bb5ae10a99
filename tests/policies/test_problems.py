"""Pointing a problem of the policy format at the line of the file it is about."""

from refunddesk.policies.problems import Problem, locate, locate_all
from tests.policies.conftest import tencent

FILE = """\
id = "my-cloud"
version = 1

[name]
en = "My cloud"
"zh-Hans" = "我的云"

[[rules]]
id = "first"
funding = ["cash"]

[[rules]]
id = "second"
window.start = "placed_at"
window.length = "5 days"
consumption = { method = "time_ratio", unit = "week" }
"""


def test_a_key_is_found_on_its_own_line():
    assert locate("rules[1].window.length: expected a duration", FILE) == Problem(
        "rules[1].window.length", "expected a duration", 15)


def test_a_key_inside_an_inline_table_is_on_the_tables_line():
    assert locate("rules[1].consumption.unit: expected one of", FILE).line == 16


def test_a_missing_key_is_shown_at_its_table():
    # the first rule has no handling key: the problem points at its [[rules]] header
    assert locate("rules[0].when.kind: required", FILE).line == 8


def test_quoted_keys_and_plain_tables_are_found():
    assert locate("name.zh-Hans: expected a string", FILE).line == 6
    assert locate("name: expected a table", FILE).line == 4


def test_a_syntax_error_keeps_its_own_line():
    problem = locate("not valid TOML: Invalid value (at line 3, column 5)", FILE)
    assert (problem.key, problem.line) == ("", 3)


def test_a_problem_without_a_key_has_no_line():
    assert locate("required", FILE) == Problem("", "required", None)


def test_every_problem_of_a_preset_based_file_gets_its_line():
    text = tencent(2).replace('handling = "review"', 'handling = "later"')
    problems = locate_all(['rules[1].handling: expected one of "approve"',
                           "sla.review: bad", "destination.cash: bad"], text)
    lines = text.splitlines()
    assert [lines[p.line - 1].split(" =")[0] for p in problems] == ["handling", "review",
                                                                   "cash"]
