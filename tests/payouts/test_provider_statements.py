"""A provider whose statement files have a format of their own: its adapter reads them
(`read_statement`), and the rows are matched like those of RefundDesk's generic CSV."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.sandbox import SandboxGateway
from refunddesk.payouts.models import Settlement
from refunddesk.payouts.reconcile import FileRow, SettlementFileError, import_settlement
from tests.payouts.settlement_builders import finance, succeeded_payout, text_file

pytestmark = pytest.mark.django_db


class TabbedStatements(SandboxGateway):
    """The sandbox, with statements of "refund id<TAB>amount in minor units" lines."""

    def read_statement(self, data):
        rows = []
        for number, line in enumerate(data.decode().splitlines(), start=1):
            refund_id, amount = line.split("\t")
            rows.append(FileRow(number, refund_id, int(amount), "CNY",
                                datetime(2026, 3, 1, tzinfo=UTC), "success"))
        return rows


@pytest.fixture
def tabbed(settings):
    settings.REFUNDDESK_GATEWAYS["sandbox"]["BACKEND"] = (
        "tests.payouts.test_provider_statements.TabbedStatements")
    gateways.reset()


def test_a_statement_in_the_providers_own_format_is_read_by_its_adapter(tabbed):
    payout = succeeded_payout()

    settlement = import_settlement(
        text_file(f"{payout.gateway_refund_id}\t{payout.amount_minor}\n", "bill.txt"),
        gateway="sandbox", actor=finance())

    assert settlement.counts["matched"] == 1
    assert settlement.lines.get(outcome="matched").payout == payout


def test_a_statement_listing_no_refunds_is_refused(tabbed):
    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file("", "bill.txt"), gateway="sandbox", actor=finance())

    assert "The file lists no refunds" in str(refused.value.message)
    assert not Settlement.objects.exists()


class BrokenReader(SandboxGateway):
    def read_statement(self, data):
        raise ValueError("a case the reader did not foresee")


def test_a_file_its_reader_trips_over_is_refused_not_a_server_error(settings):
    settings.REFUNDDESK_GATEWAYS["sandbox"]["BACKEND"] = (
        "tests.payouts.test_provider_statements.BrokenReader")
    gateways.reset()

    with pytest.raises(SettlementFileError) as refused:
        import_settlement(text_file("garbage", "bill.zip"), gateway="sandbox", actor=finance())

    assert "cannot be read as sandbox's statement" in str(refused.value.message)
    assert not Settlement.objects.exists()
