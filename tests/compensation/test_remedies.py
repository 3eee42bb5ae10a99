"""The remedies' arithmetic, to the cent, without a database: the outage's share of a line,
percentages, fixed credits per currency, extensions, and what gets nothing."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.compensation import remedies
from refunddesk.compensation.remedies import (
    LineInput,
    Remedy,
    RemedyError,
    Window,
    cap,
    evaluate,
    parse_percent,
    percent_of,
    refund_share,
)

START = datetime.fromisoformat("2026-03-01T10:05:00+08:00")
END = datetime.fromisoformat("2027-03-01T10:05:00+08:00")  # 365 days later
OUTAGE = Window(datetime.fromisoformat("2026-05-01T02:00:00+08:00"),
                datetime.fromisoformat("2026-05-04T02:00:00+08:00"))  # 3 days
NOW = datetime.fromisoformat("2026-05-10T12:00:00+08:00")


def line(paid=96000, *, billing="prepaid", currency="CNY", start=START, end=END,
         effective=None):
    return LineInput(billing, currency, paid, start, end, effective or end)


def test_an_outage_of_3_days_on_a_365_day_line_paid_960_00_refunds_7_89():
    # 960.00 × 3 / 365 = 7.890410… → 7.89
    assert refund_share(96000, START, END, timedelta(days=3)) == 789
    outcome = evaluate(line(), OUTAGE, Remedy("refund_time"), now=NOW)
    assert (outcome.amount, outcome.affected, outcome.excluded) == (789, timedelta(days=3), "")


def test_the_share_is_rounded_once_half_up_to_the_minor_unit():
    day = timedelta(days=1)
    # 100.00 over 3 days, 1 day affected: 33.333… → 33.33; 200.00: 66.666… → 66.67
    assert refund_share(10000, START, START + 3 * day, day) == 3333
    assert refund_share(20000, START, START + 3 * day, day) == 6667
    # exactly half a fen rounds up: 0.01 over 2 days, 1 day → 0.005 → 0.01
    assert refund_share(1, START, START + 2 * day, day) == 1
    # the whole term is the whole amount
    assert refund_share(96000, START, END, END - START) == 96000


def test_a_currency_without_minor_units_is_refunded_in_whole_units():
    # ¥10,000 × 3 / 365 = 82.19… → ¥82
    outcome = evaluate(line(10000, currency="JPY"), OUTAGE, Remedy("refund_time"), now=NOW)
    assert outcome.amount == 82


def test_only_the_part_of_the_outage_inside_the_service_counts():
    # given a service that began a day into the outage and one that ended a day into it
    late_start = OUTAGE.start + timedelta(days=1)
    early_end = OUTAGE.start + timedelta(days=1)

    # then only the overlap is affected
    assert OUTAGE.overlap(late_start, END) == timedelta(days=2)
    assert OUTAGE.overlap(START, early_end) == timedelta(days=1)
    assert OUTAGE.overlap(START, None) == timedelta(days=3)  # no end: still running
    assert OUTAGE.overlap(OUTAGE.end, END) == timedelta(0)


def test_a_percentage_credit_is_a_share_of_what_the_line_cost_rounded_half_up():
    assert percent_of(96000, parse_percent("12.5")) == 12000
    assert percent_of(5, parse_percent("10")) == 1  # 0.005 → 0.01
    assert percent_of(4, parse_percent("10")) == 0
    outcome = evaluate(line(), OUTAGE, Remedy("credit_percent", percent_hundredths=1000,
                                              credit_to="gift"), now=NOW)
    assert outcome.amount == 9600


def test_a_fixed_credit_is_per_currency_and_a_line_in_another_currency_gets_nothing():
    remedy = Remedy("credit_fixed", fixed={"CNY": 2000})

    assert evaluate(line(), OUTAGE, remedy, now=NOW).amount == 2000
    usd = evaluate(line(currency="USD"), OUTAGE, remedy, now=NOW)
    assert (usd.amount, usd.excluded) == (0, remedies.NO_AMOUNT_FOR_CURRENCY)


def test_pay_as_you_go_gets_only_a_fixed_credit():
    payg = line(billing="payg", end=None)

    for remedy in (Remedy("refund_time"), Remedy("credit_percent", percent_hundredths=1000),
                   Remedy("extension")):
        assert evaluate(payg, OUTAGE, remedy, now=NOW).excluded == remedies.PAY_AS_YOU_GO
    assert evaluate(payg, OUTAGE, Remedy("credit_fixed", fixed={"CNY": 500}),
                    now=NOW).amount == 500


def test_an_extension_moves_the_end_by_the_affected_time_or_by_the_days_chosen():
    by_outage = evaluate(line(), OUTAGE, Remedy("extension"), now=NOW)
    by_days = evaluate(line(), OUTAGE, Remedy("extension", extension_days=7), now=NOW)

    assert (by_outage.amount, by_outage.extended_to) == (0, END + timedelta(days=3))
    assert by_days.extended_to == END + timedelta(days=7)


def test_nothing_is_extended_once_the_service_is_over_or_a_refund_decided_its_end():
    ended = line(start=START, end=OUTAGE.end + timedelta(days=1))
    assert evaluate(ended, OUTAGE, Remedy("extension"),
                    now=NOW).excluded == remedies.ALREADY_ENDED
    refunded = line(effective=OUTAGE.start + timedelta(days=1))
    assert evaluate(refunded, OUTAGE, Remedy("extension"),
                    now=NOW).excluded == remedies.ALREADY_ENDED


def test_a_service_a_refund_ended_before_the_outage_gets_nothing_and_one_ended_during_it_a_part():
    before = evaluate(line(effective=OUTAGE.start - timedelta(hours=1)), OUTAGE,
                      Remedy("refund_time"), now=NOW)
    during = evaluate(line(effective=OUTAGE.start + timedelta(days=1)), OUTAGE,
                      Remedy("refund_time"), now=NOW)

    assert before.excluded == remedies.ENDED_BEFORE
    # one day of three counted: 960.00 × 1 / 365 = 2.63
    assert (during.affected, during.amount) == (timedelta(days=1), 263)


def test_a_share_under_half_a_fen_is_nothing_and_says_so():
    short = Window(OUTAGE.start, OUTAGE.start + timedelta(seconds=10))
    assert evaluate(line(100), short, Remedy("refund_time"),
                    now=NOW).excluded == remedies.NOTHING_DUE


def test_the_amounts_of_an_order_are_cut_to_what_its_payments_have_left_in_line_order():
    assert cap([500, 300, 200], 1000) == [500, 300, 200]
    assert cap([500, 300, 200], 600) == [500, 100, 0]
    assert cap([500], -5) == [0]


@pytest.mark.parametrize("text, hundredths", [("10", 1000), ("12.5", 1250), ("0.01", 1),
                                               ("100", 10000), (" 7.25 ", 725)])
def test_a_percentage_is_read_to_the_hundredth(text, hundredths):
    assert parse_percent(text) == hundredths


@pytest.mark.parametrize("text", ["", "0", "100.01", "12.345", "1e2", "-5", "½", "10%"])
def test_a_percentage_that_is_not_one_is_refused(text):
    with pytest.raises(RemedyError):
        parse_percent(text)


def test_remedies_that_cannot_be_applied_are_refused_when_made():
    for bad in (dict(kind="nothing"), dict(kind="credit_percent"),
                dict(kind="credit_fixed", fixed={}), dict(kind="credit_fixed",
                                                          fixed={"CNY": 0}),
                dict(kind="credit_fixed", fixed={"CNY": 1}, credit_to="cash"),
                dict(kind="extension", extension_days=0)):
        with pytest.raises(RemedyError):
            Remedy(**bad)
    with pytest.raises(RemedyError):
        Window(OUTAGE.end, OUTAGE.start)
    with pytest.raises(RemedyError):
        Window(datetime(2026, 5, 1), datetime(2026, 5, 2))


@given(paid=st.integers(0, 10**12), term_hours=st.integers(1, 24 * 365 * 5),
       cut=st.floats(0, 1))
def test_the_share_never_passes_what_was_paid_and_grows_with_the_affected_time(paid,
                                                                             term_hours, cut):
    term = timedelta(hours=term_hours)
    affected = timedelta(seconds=int(term.total_seconds() * cut))
    share = refund_share(paid, START, START + term, affected)
    assert 0 <= share <= paid
    assert share <= refund_share(paid, START, START + term,
                                 min(term, affected + timedelta(hours=1)))
