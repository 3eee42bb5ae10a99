"""Reconciliation: a gateway's settlement file against our payouts. Every row matches,
differs or is not ours; every paid payout of the file's period it leaves out is missing.
A bad file is refused with its line and column, and stores nothing; nothing ever changes a
payout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from refunddesk.cases.errors import NotPermitted
from refunddesk.payouts import reconcile
from refunddesk.payouts.actions import record_paid_outside
from refunddesk.payouts.models import Payout, PayoutState, Settlement, SettlementLine
from refunddesk.payouts.reconcile import SettlementFileError, describe, import_settlement
from tests.payouts.settlement_builders import (
    failed_payout,
    finance,
    row_for,
    settlement_csv,
    snapshot,
    succeeded_payout,
    text_file,
)
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def in_english():
    # The messages matched are the English source strings; zh-hans is the default language.
    from django.utils import translation

    with translation.override("en"):
        yield


# -- matching ---------------------------------------------------------------------------------

def test_a_file_that_agrees_with_our_payouts_matches_every_line():
    # given two paid payouts
    first, second = succeeded_payout("VPN-PAID-1"), succeeded_payout("VPN-PAID-2")

    # when finance imports the provider's file listing both
    settlement = import_settlement(settlement_csv([row_for(first), row_for(second)]),
                                   gateway="sandbox", actor=finance())

    # then both lines match their payouts and nothing is missing
    lines = list(settlement.lines.order_by("line_number"))
    assert [(line.line_number, line.outcome, line.payout) for line in lines] == [
        (2, "matched", first), (3, "matched", second)]
    assert settlement.counts == {"matched": 2, "differs": 0, "missing": 0, "unknown": 0}
    assert settlement.period_start == min(first.settled_at, second.settled_at)
    assert settlement.period_end == max(first.settled_at, second.settled_at)
    assert settlement.file_name == "settlement.csv" and settlement.gateway == "sandbox"


def test_columns_in_any_order_with_extra_columns_and_a_bom_are_read():
    # given a file with a byte order mark, its columns shuffled and two of its own
    payout = succeeded_payout()
    columns = ("fee", "status", "settled_at", "refund_id", "merchant", "currency", "amount")
    row = {**row_for(payout), "fee": "0.30", "merchant": "ACME"}

    # when it is imported
    settlement = import_settlement(settlement_csv([row], columns=columns, bom=True),
                                   gateway="sandbox", actor=finance())

    # then the row is read by the names of its columns
    assert settlement.lines.get().outcome == "matched"


def test_a_refund_written_as_money_out_with_a_minus_sign_matches():
    # given a provider that writes refunds as negative amounts
    payout = succeeded_payout()

    # when its file is imported
    settlement = import_settlement(settlement_csv([row_for(payout, amount="-300.00")]),
                                   gateway="sandbox", actor=finance())

    # then the size of the amount is compared
    assert settlement.lines.get().outcome == "matched"


def test_an_amount_the_file_disagrees_with_is_a_difference():
    # given a paid payout of 300.00 CNY
    payout = succeeded_payout()

    # when the file says 250.00
    settlement = import_settlement(settlement_csv([row_for(payout, amount="250.00")]),
                                   gateway="sandbox", actor=finance())

    # then the line differs, and says how
    line = settlement.lines.get()
    assert line.outcome == "differs" and line.payout == payout
    # (kept as data in the currency's unit; the words are the reader's)
    assert line.differences == [{"field": "amount", "currency": "CNY", "ours": "300.00",
                                 "theirs": "250.00"}]
    with translation.override("en"):
        assert describe(line.differences[0]) == ("Amount: the file says CN¥250.00, ours is "
                                                 "CN¥300.00.")
    with translation.override("zh-hans"):
        assert "¥250.00" in describe(line.differences[0])
        assert "CN¥" not in describe(line.differences[0])


def test_an_amount_difference_stored_as_text_is_still_described():
    # given a difference stored before amounts were kept in the currency's unit
    stored = {"field": "amount", "ours": "300.00 CNY", "theirs": "250.00 CNY"}

    # then it is shown as it was written
    with translation.override("en"):
        assert describe(stored) == "Amount: the file says 250.00 CNY, ours is 300.00 CNY."


def test_a_currency_the_file_disagrees_with_is_a_difference():
    payout = succeeded_payout()

    settlement = import_settlement(settlement_csv([row_for(payout, currency="USD")]),
                                   gateway="sandbox", actor=finance())

    line = settlement.lines.get()
    assert line.outcome == "differs"
    assert line.differences == [{"field": "currency", "ours": "CNY", "theirs": "USD"}]


@pytest.mark.parametrize("status", ["failed", "reversed"])
def test_a_refund_the_file_says_failed_while_ours_succeeded_differs(status):
    # given a payout we count as paid
    payout = succeeded_payout()

    # when the provider's file says it failed or was reversed
    settlement = import_settlement(settlement_csv([row_for(payout, status=status)]),
                                   gateway="sandbox", actor=finance())

    # then the line differs on its status
    line = settlement.lines.get()
    assert line.outcome == "differs"
    assert line.differences == [{"field": "status", "ours": "succeeded", "theirs": status}]
    assert describe(line.differences[0]) == (f"Status: the file says “{status}”, ours is "
                                             "“Paid”.")


@pytest.mark.parametrize("state", [PayoutState.SUBMITTED, PayoutState.UNKNOWN])
def test_a_refund_the_file_says_settled_while_ours_is_still_on_its_way_differs(state):
    # given a payout still waiting for the provider's answer
    payout = succeeded_payout()
    Payout.objects.filter(pk=payout.pk).update(state=state, settled_at=None)

    # when the file says the provider settled it
    settlement = import_settlement(settlement_csv([row_for(payout, status="settled")]),
                                   gateway="sandbox", actor=finance())

    # then the line differs on its status, and the payout is left as it was
    line = settlement.lines.get()
    assert line.outcome == "differs"
    assert line.differences == [{"field": "status", "ours": state, "theirs": "settled"}]
    assert Payout.objects.get(pk=payout.pk).state == state


def test_a_refund_the_file_says_paid_while_ours_failed_warns_against_paying_twice():
    # given a payout the gateway refused
    payout = failed_payout()

    # when the file nevertheless lists it as settled
    settlement = import_settlement(
        settlement_csv([row_for(payout, settled_at=timezone.now().isoformat())]),
        gateway="sandbox", actor=finance())

    # then the difference warns finance before they retry it
    line = settlement.lines.get()
    assert line.outcome == "differs"
    assert "or the customer is paid twice" in describe(line.differences[0])


def test_a_refund_id_we_do_not_know_is_not_ours():
    # given no payout with the provider's refund id
    succeeded_payout()
    stranger = {"refund_id": "sbre_not_ours", "amount": "12.00", "currency": "CNY",
                "settled_at": "2026-03-01T10:00:00+08:00", "status": "succeeded"}

    # when the file lists it
    settlement = import_settlement(settlement_csv([stranger]), gateway="sandbox",
                                   actor=finance())

    # then its line is unknown, with the file's figures kept
    line = settlement.lines.get(line_number=2)
    assert line.outcome == "unknown" and line.payout is None
    assert (line.refund_id, line.amount_minor, line.currency, line.status) == (
        "sbre_not_ours", 1200, "CNY", "succeeded")


def test_a_refund_of_another_gateway_is_not_ours_for_this_one():
    # given a paid payout of the sandbox gateway
    payout = succeeded_payout()

    # when its refund id turns up in the stripe gateway's file
    settlement = import_settlement(settlement_csv([row_for(payout)]), gateway="stripe",
                                   actor=finance())

    # then it is not matched across gateways
    assert settlement.lines.get().outcome == "unknown"


def test_a_refund_id_twice_in_the_file_differs_as_appearing_twice():
    # given a paid payout
    payout = succeeded_payout()

    # when the file lists its refund twice
    settlement = import_settlement(settlement_csv([row_for(payout), row_for(payout)]),
                                   gateway="sandbox", actor=finance())

    # then both lines differ, naming each other
    lines = list(settlement.lines.order_by("line_number"))
    assert [line.outcome for line in lines] == ["differs", "differs"]
    assert all(line.differences == [{"field": "refund_id", "lines": [2, 3]}]
               for line in lines)
    assert describe(lines[0].differences[0]) == "Appears twice in the file (lines 2, 3)."
    assert settlement.counts["differs"] == 2


def test_a_paid_payout_of_the_period_the_file_leaves_out_is_missing():
    # given three paid payouts, the file listing the first and the last
    first, left_out, last = (succeeded_payout("VPN-PAID-1"), succeeded_payout("VPN-PAID-2"),
                             succeeded_payout("VPN-PAID-3"))
    start = timezone.now() - timedelta(hours=3)
    Payout.objects.filter(pk=first.pk).update(settled_at=start)
    Payout.objects.filter(pk=left_out.pk).update(settled_at=start + timedelta(hours=1))
    Payout.objects.filter(pk=last.pk).update(settled_at=start + timedelta(hours=2))
    rows = [row_for(first, settled_at=start.isoformat()),
            row_for(last, settled_at=(start + timedelta(hours=2)).isoformat())]

    # when the file is imported
    settlement = import_settlement(settlement_csv(rows), gateway="sandbox", actor=finance())

    # then the one left out is missing, with our figures
    missing = settlement.lines.get(outcome="missing")
    assert missing.payout == left_out and missing.line_number is None
    assert (missing.refund_id, missing.amount_minor, missing.currency) == (
        left_out.gateway_refund_id, 30000, "CNY")
    assert settlement.counts == {"matched": 2, "differs": 0, "missing": 1, "unknown": 0}


def test_payouts_outside_the_files_period_or_not_yet_paid_are_not_missing():
    # given a paid payout settled a day before the file's only row, and a failed one
    listed, earlier = succeeded_payout("VPN-PAID-1"), succeeded_payout("VPN-PAID-2")
    failed_payout()
    Payout.objects.filter(pk=earlier.pk).update(settled_at=listed.settled_at
                                                - timedelta(days=1))

    # when the file is imported
    settlement = import_settlement(settlement_csv([row_for(listed)]), gateway="sandbox",
                                   actor=finance())

    # then neither is reported missing
    assert not settlement.lines.filter(outcome="missing").exists()


def test_reconciliation_changes_no_payout():
    # given payouts paid, refused, and one the file disagrees with
    paid, refused = succeeded_payout("VPN-PAID-1"), failed_payout()
    succeeded_payout("VPN-PAID-2")  # left out of the file: missing
    before = snapshot()

    # when a file full of differences is imported
    import_settlement(settlement_csv([
        row_for(paid, amount="1.00", status="reversed"),
        row_for(refused, settled_at=paid.settled_at.isoformat(), status="settled")]),
        gateway="sandbox", actor=finance())

    # then every payout is exactly as it was: finance decides what to do
    assert snapshot() == before


def test_the_same_file_imported_twice_names_the_earlier_import():
    # given a file imported once
    payout = succeeded_payout()
    upload = settlement_csv([row_for(payout)], name="2026-03-01.csv")
    first = import_settlement(upload, gateway="sandbox", actor=finance())

    # when it is imported again, under another name, by a colleague
    again = settlement_csv([row_for(payout)], name="copy.csv")
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(again, gateway="sandbox", actor=finance("finance-2"))

    # then it is refused, naming the first import, and nothing is added
    message = str(refused.value.message)
    assert f"settlement file {first.pk} (“2026-03-01.csv”)" in message
    assert "imported by finance-1" in message
    assert Settlement.objects.count() == 1
    assert SettlementLine.objects.count() == 1


def test_only_finance_imports_settlement_files():
    # given an agent
    payout = succeeded_payout()
    agent = staff_member("agent-1", "agent")

    # when the agent imports a file
    with pytest.raises(NotPermitted):
        import_settlement(settlement_csv([row_for(payout)]), gateway="sandbox", actor=agent)

    # then nothing is stored
    assert not Settlement.objects.exists()


# -- bad input --------------------------------------------------------------------------------

HEADER = "refund_id,amount,currency,settled_at,status\n"
GOOD = "sbre_1,300.00,CNY,2026-03-01T10:00:00+08:00,succeeded\n"


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + GOOD + "sbre_2,\"12,5\",CNY,2026-03-01T10:00:00+08:00,succeeded\n",
     "Line 3, column amount: “12,5” is not an amount."),
    (HEADER + GOOD + "sbre_2,12.505,CNY,2026-03-01T10:00:00+08:00,succeeded\n",
     "Line 3, column amount: “12.505” is not an amount."),
    (HEADER + "sbre_2,12.50,RMB,2026-03-01T10:00:00+08:00,succeeded\n",
     "Line 2, column currency: “RMB” is not a currency code."),
    (HEADER + "sbre_2,12.50,CNY,2026-03-01 10:00:00,succeeded\n",
     "Line 2, column settled_at: “2026-03-01 10:00:00” is not a time with its UTC offset"),
    (HEADER + "sbre_2,12.50,CNY,yesterday,succeeded\n",
     "Line 2, column settled_at: “yesterday” is not a time"),
    (HEADER + "sbre_2,12.50,CNY,2026-03-01T10:00:00+08:00,lost\n",
     "Line 2, column status: “lost” is not a status RefundDesk knows"),
    (HEADER + ",12.50,CNY,2026-03-01T10:00:00+08:00,succeeded\n",
     "Line 2, column refund_id: the value is empty."),
    (HEADER + "sbre_2,12.50,CNY\n",
     "Line 2, column settled_at: the value is empty."),
    (HEADER + "x" * 129 + ",12.50,CNY,2026-03-01T10:00:00+08:00,succeeded\n",
     "Line 2, column refund_id: the refund id is longer than 128 characters."),
    ("", "The file is empty."),
    ("\n\n", "The file is empty."),
    (HEADER, "The file names its columns but lists no refunds"),
    ("refund_id,amount,currency,status\n" + "sbre_1,1.00,CNY,succeeded\n",
     "does not name the column(s) settled_at."),
    ("refund_id;amount;currency;settled_at;status\n",
     "Its columns seem to be separated by “;”"),
    ("refund_id,amount,amount,currency,settled_at,status\n",
     "Line 1: the column amount is named twice."),
    (HEADER + GOOD + "sbre_2,\"12.50,CNY\n",
     "Line 3: the file cannot be read as CSV"),
], ids=["decimal-comma", "too-many-decimals", "currency", "no-offset", "not-a-time",
        "status", "empty-refund-id", "short-row", "long-refund-id", "empty", "blank-lines",
        "header-only", "missing-column", "semicolons", "column-twice", "bad-quoting"])
def test_a_bad_file_is_refused_with_its_line_and_column_and_stores_nothing(text, message):
    # given a paid payout and a file with something wrong in it
    succeeded_payout()
    before = snapshot()

    # when it is imported
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file(text), gateway="sandbox", actor=finance())

    # then the error says where, and nothing is stored or changed
    assert message in str(refused.value.message)
    assert not Settlement.objects.exists() and not SettlementLine.objects.exists()
    assert snapshot() == before


def test_every_bad_row_of_a_file_is_listed_up_to_a_limit():
    # given a file whose every row has a bad amount
    text = HEADER + "".join(f'sbre_{n},"{n},5",CNY,2026-03-01T10:00:00+08:00,settled\n'
                            for n in range(30))

    # when it is imported
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file(text), gateway="sandbox", actor=finance())

    # then the first problems are all listed, each with its line
    problems = refused.value.problems
    assert len(problems) == reconcile.MAX_PROBLEMS
    assert problems[0] == "Line 2, column amount: “0,5” is not an amount."
    assert problems[1].startswith("Line 3, column amount:")
    assert not Settlement.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_naming_its_line():
    data = (HEADER + GOOD).encode() + "sbre_2,1.00,CNY,2026-03-01T10:00:00+08:00,成功\n".encode(
        "gbk")

    with pytest.raises(SettlementFileError) as refused:
        import_settlement(SimpleUploadedFile("gbk.csv", data), gateway="sandbox",
                          actor=finance())

    assert "Line 3: the file is not UTF-8 text." in str(refused.value.message)
    assert not Settlement.objects.exists()


def test_a_file_over_20_megabytes_is_refused():
    data = (HEADER + GOOD).encode() + b" " * reconcile.MAX_BYTES

    with pytest.raises(SettlementFileError) as refused:
        import_settlement(SimpleUploadedFile("big.csv", data), gateway="sandbox",
                          actor=finance())

    assert "The file is larger than 20 MB." in str(refused.value.message)
    assert not Settlement.objects.exists()


def test_a_file_with_too_many_rows_is_refused(monkeypatch):
    # given a row limit of 3 (the real one, 200,000, takes a large file to reach)
    monkeypatch.setattr(reconcile, "MAX_ROWS", 3)

    # when a file of four rows is imported
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file(HEADER + GOOD * 4), gateway="sandbox", actor=finance())

    # then it is refused as too long
    assert "The file has more than 3 rows." in str(refused.value.message)
    assert not Settlement.objects.exists()


def test_a_gateway_that_is_not_configured_is_refused():
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file(HEADER + GOOD), gateway="klarna", actor=finance())

    assert "There is no gateway named “klarna”." in str(refused.value.message)
    assert "sandbox" in str(refused.value.message)
    assert not Settlement.objects.exists()


def test_payouts_recorded_as_paid_outside_can_be_reconciled_with_a_bank_statement():
    # given a refused payout that finance paid by bank transfer
    refused = failed_payout()
    outside = record_paid_outside(refused, actor=finance("finance-2"),
                                  reference="BANK-2026-0042")

    # when the bank's statement of such payments is imported
    settlement = import_settlement(
        settlement_csv([row_for(outside, refund_id="BANK-2026-0042")]),
        gateway="outside", actor=finance())

    # then the payment matches
    assert settlement.lines.get().payout == outside
    assert settlement.lines.get().outcome == "matched"
