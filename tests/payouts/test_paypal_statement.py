"""PayPal's settlement report (STL) imported for reconciliation: its refund rows (T1107,
debit) match our PayPal payouts by refund id; everything else in it is passed over; a file
that is damaged or incomplete is refused line by line and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from refunddesk.payouts.gateways.paypal_statement import read_settlement_report
from refunddesk.payouts.models import Payout, PayoutState, Settlement
from refunddesk.payouts.reconcile import SettlementFileError, import_settlement
from refunddesk.payouts.runner import run_pass
from tests.payouts.paypal_cases import paypal_case, use_standin
from tests.payouts.paypal_reports import payment_row, refund_row, settlement_report, upload
from tests.payouts.paypal_standin import PayPalStandIn
from tests.payouts.settlement_builders import finance

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def standin():
    with PayPalStandIn() as server:
        yield server


def paid_payout(settings, standin, order_id: str, capture: str) -> Payout:
    standin.add_payment(capture, 3000)
    use_standin(settings, standin)
    case = paypal_case(order_id, capture)
    run_pass(case_ids=[case.pk])
    payout = case.payouts.get()
    assert payout.state == PayoutState.SUCCEEDED
    return payout


def refund(refund_id: str = "1AB23456CD789012E", value: str = "30.00",
           currency: str = "USD") -> dict:
    return {"id": refund_id, "amount": {"value": value, "currency_code": currency},
            "invoice_id": "refunddesk-payout-1", "custom_id": "refunddesk-payout-1"}


def refused(data: bytes) -> SettlementFileError:
    with pytest.raises(SettlementFileError) as error:
        read_settlement_report(data)
    return error.value


# -- matching ----------------------------------------------------------------------------


def test_the_report_of_our_paypal_refunds_matches_every_payout(settings, standin):
    # given two payouts PayPal refunded
    first = paid_payout(settings, standin, "VPN-PPS-1", "CAP-S-1")
    second = paid_payout(settings, standin, "VPN-PPS-2", "CAP-S-2")
    # when finance imports PayPal's settlement report of that day, payments and all
    report = settlement_report([standin.refund_for(first.idempotency_key),
                                standin.refund_for(second.idempotency_key)],
                               extra_rows=[payment_row()])
    settlement = import_settlement(upload(report), gateway="paypal", actor=finance())
    # then both refunds match their payouts, and the payment row is no refund
    lines = {line.refund_id: line for line in settlement.lines.all()}
    assert set(lines) == {first.gateway_refund_id, second.gateway_refund_id}
    assert {line.outcome for line in lines.values()} == {"matched"}
    assert lines[first.gateway_refund_id].payout == first
    assert lines[first.gateway_refund_id].amount_minor == 3000
    assert settlement.counts == {"matched": 2, "differs": 0, "missing": 0, "unknown": 0}


def test_a_paid_payout_the_report_leaves_out_is_missing(settings, standin):
    # given two payouts PayPal refunded in the same second
    first = paid_payout(settings, standin, "VPN-PPS-1", "CAP-S-1")
    second = paid_payout(settings, standin, "VPN-PPS-2", "CAP-S-2")
    Payout.objects.filter(pk=second.pk).update(settled_at=first.settled_at)
    # when the report lists only the first
    report = settlement_report([standin.refund_for(first.idempotency_key)])
    settlement = import_settlement(upload(report), gateway="paypal", actor=finance())
    # then the second is missing from it
    assert settlement.counts == {"matched": 1, "differs": 0, "missing": 1, "unknown": 0}
    assert settlement.lines.get(outcome="missing").payout == second


def test_a_refund_the_report_lists_for_another_amount_differs(settings, standin):
    payout = paid_payout(settings, standin, "VPN-PPS-1", "CAP-S-1")
    made = standin.refund_for(payout.idempotency_key)
    made["amount"] = {"value": "29.00", "currency_code": "USD"}
    settlement = import_settlement(upload(settlement_report([made])), gateway="paypal",
                                   actor=finance())
    line = settlement.lines.get(refund_id=payout.gateway_refund_id)
    assert line.outcome == "differs"
    assert line.differences[0]["field"] == "amount"


# -- reading -----------------------------------------------------------------------------


def test_amounts_are_read_as_hundredths_whatever_the_currency():
    rows = read_settlement_report(settlement_report([
        refund("1AAAAAAAAAAAAAAAA", "12.34", "USD"),
        refund("2BBBBBBBBBBBBBBBB", "1500", "JPY")]))
    assert [(row.refund_id, row.amount_minor, row.currency, row.status) for row in rows] == [
        ("1AAAAAAAAAAAAAAAA", 1234, "USD", "success"),
        ("2BBBBBBBBBBBBBBBB", 1500, "JPY", "success")]
    assert all(row.settled_at.utcoffset() is not None for row in rows)


def test_the_column_name_with_two_spaces_of_older_reports_is_read():
    data = settlement_report([refund()]).replace(
        b'"Transaction Debit or Credit"', b'"Transaction  Debit or Credit"')
    assert [row.refund_id for row in read_settlement_report(data)] == ["1AB23456CD789012E"]


def test_the_completion_time_with_its_offset_is_the_settlement_time():
    moment = datetime(2026, 3, 1, 2, 0, 5, tzinfo=UTC)
    data = settlement_report([]).replace(b'"SC",0', b'"SC",1').replace(b'"RC",0', b'"RC",1') \
        .replace(b'"FF",0', b'"FF",1')
    row = ",".join(refund_row(refund(), moment=moment, completed="2026/03/01 10:00:05 +0800"))
    data = data.replace(b'"SF"', row.encode() + b'\n"SF"', 1)
    [read] = read_settlement_report(data)
    assert read.settled_at == moment


def test_a_byte_order_mark_is_allowed():
    data = "\ufeff".encode() + settlement_report([refund()])
    assert len(read_settlement_report(data)) == 1


# -- refused -----------------------------------------------------------------------------


def test_bad_refund_rows_are_refused_line_by_line_and_nothing_is_stored(settings, standin):
    # given a report with a bad amount on line 5 and a bad time on line 6
    bad_amount = ",".join(refund_row(refund("1AAAAAAAAAAAAAAAA"), amount="12.34"))
    bad_time = ",".join(refund_row(refund("2BBBBBBBBBBBBBBBB"), completed="yesterday"))
    data = settlement_report([], extra_rows=[bad_amount.split(","), bad_time.split(",")])
    # when finance imports it
    with pytest.raises(SettlementFileError) as error:
        import_settlement(upload(data), gateway="paypal", actor=finance())
    # then each problem names its line, and nothing was stored
    assert error.value.problems == [
        "Line 5: “12.34” is not an amount in hundredths of USD.",
        "Line 6: “yesterday” is not a time like 2026/03/01 10:00:00 +0800."]
    assert not Settlement.objects.exists()


def test_a_report_whose_section_count_disagrees_with_its_rows_is_refused():
    problem = refused(settlement_report([refund()], section_count=2))
    assert "the footer SC counts 2 transaction rows, but 1 came before it" in str(
        problem.problems[0])


def test_a_report_whose_file_count_disagrees_with_its_rows_is_refused():
    problem = refused(settlement_report([refund()], file_count=3))
    assert "the footer FF counts 3" in problem.problems[0]


def test_a_report_cut_short_before_its_footer_is_refused():
    data = settlement_report([refund()])
    cut = data[:data.index(b'"SF"')]
    assert "without its footer (FF)" in str(refused(cut).problems[0])


def test_a_refund_written_as_a_credit_is_refused():
    row = refund_row(refund(), direction="CR")
    problem = refused(settlement_report([], extra_rows=[row]))
    assert problem.problems == ["Line 5: a refund (T1107) must be a debit (DR), not “CR”."]


def test_a_file_that_is_not_a_paypal_report_is_refused():
    problem = refused(b"refund_id,amount,currency,settled_at,status\nr1,1.00,USD,x,y\n")
    assert "starts with its report header (RH)" in problem.problems[0]


def test_a_yen_amount_that_is_not_whole_yen_is_refused():
    problem = refused(settlement_report([refund(value="15.5", currency="JPY")]))
    assert "is not an amount in hundredths of JPY" in problem.problems[0]


def test_a_transaction_row_before_any_column_header_is_refused():
    data = settlement_report([refund()])
    lines = data.split(b"\n")
    header = next(i for i, line in enumerate(lines) if line.startswith(b'"CH"'))
    del lines[header]
    problem = refused(b"\n".join(lines))
    assert "comes before the column header" in problem.problems[0]
