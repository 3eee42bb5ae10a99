"""Money shown to people (core/money.py and the `money` template filter): the reader's
locale decides the symbol and the grouping, the currency its decimal places; machines keep
the order-facts format ("1234567.89")."""

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.core.money import babel_locale, format_money
from refunddesk.policy.money import Money, format_amount


@pytest.mark.parametrize(("minor", "currency", "language", "shown"), [
    (123456789, "CNY", "zh-hans", "¥1,234,567.89"),
    (123456789, "CNY", "en", "CN¥1,234,567.89"),
    (123456789, "USD", "en", "$1,234,567.89"),
    (123456789, "USD", "zh-hans", "US$1,234,567.89"),
    (1235, "JPY", "en", "¥1,235"),
    (1235, "JPY", "zh-hans", "JP¥1,235"),
    (1230, "EUR", "en", "€12.30"),
    (1234, "KWD", "en", "KWD1.234"),
    (0, "CNY", "zh-hans", "¥0.00"),
    (-1230, "CNY", "zh-hans", "-¥12.30"),
])
def test_an_amount_formatted_for_a_language_has_its_locales_symbol_grouping_and_digits(
        minor, currency, language, shown):
    assert format_money(minor, currency, language=language) == shown


def test_given_no_language_when_formatted_then_the_active_language_decides():
    with translation.override("zh-hans"):
        assert format_money(96000, "CNY") == "¥960.00"
    with translation.override("en"):
        assert format_money(96000, "CNY") == "CN¥960.00"


@pytest.mark.parametrize(("language", "locale"), [
    ("zh-hans", "zh_Hans_CN"), ("zh-Hans", "zh_Hans_CN"), ("zh-cn", "zh_Hans_CN"),
    ("en", "en"), ("en-us", "en"), ("fr", "en"),
])
def test_given_a_django_language_when_mapped_then_babel_formats_for_its_readers(language,
                                                                                 locale):
    assert str(babel_locale(language)) == locale


@given(minor=st.integers(min_value=-10**15, max_value=10**15),
       currency=st.sampled_from(["CNY", "USD", "EUR", "JPY", "KWD", "HKD"]),
       language=st.sampled_from(["zh-hans", "en"]))
def test_given_any_amount_when_formatted_then_its_digits_are_exactly_the_machine_formats(
        minor, currency, language):
    # Grouping and symbols are added; not a digit is rounded, lost or moved.
    shown = format_money(minor, currency, language=language)
    machine = format_amount(minor, currency)
    assert [char for char in shown if char.isdigit()] == [
        char for char in machine if char.isdigit()]
    assert shown.startswith("-") == (minor < 0)


def test_given_an_amount_when_written_for_machines_then_it_keeps_the_order_facts_format():
    assert format_amount(123456789, "CNY") == "1234567.89"
    assert format_amount(1235, "JPY") == "1235"


def render(text: str, **context: object) -> str:
    return Template("{% load money %}" + text).render(Context(context))


@pytest.mark.parametrize(("language", "shown"), [("zh-hans", "¥1,234.50"),
                                                 ("en", "CN¥1,234.50")])
def test_given_a_template_when_the_money_filter_shows_an_amount_then_it_is_format_money(
        language, shown):
    with translation.override(language):
        assert render("{{ m|money }}", m=Money(123450, "CNY")) == shown
        assert render("{{ m|money:'CNY' }}", m=123450) == shown
        # an assessment's decimal string
        assert render("{{ m|money:'CNY' }}", m="1234.50") == shown
        assert render("{{ m|money:'CNY' }}", m="-1234.50") == "-" + shown


def test_given_nothing_or_no_amount_when_the_money_filter_shows_it_then_it_is_left_as_it_came():
    assert render("{{ m|money:'CNY' }}", m=None) == ""
    assert render("{{ m|money:'CNY' }}", m="") == ""
    assert render("{{ m|money:'CNY' }}", m="n/a") == "n/a CNY"
