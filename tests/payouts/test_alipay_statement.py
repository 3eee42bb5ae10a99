"""Alipay's bill (a csv.zip of GBK text, 业务明细 with its `#` lines) imported by finance for
the alipay gateway, and matched to the payouts the stand-in paid."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.alipay_client import BEIJING
from refunddesk.payouts.models import Payout, PayoutState, Settlement
from refunddesk.payouts.reconcile import SettlementFileError, import_settlement
from refunddesk.payouts.runner import run_pass
from tests.payouts.alipay_standin import AlipayStandIn
from tests.payouts.builders import approved_case
from tests.payouts.settlement_builders import finance

pytestmark = pytest.mark.django_db

# The header line of Alipay's detail list, as it stands in the file.
HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
           "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,"
           "支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,"
           "卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")
COLUMNS = HEADER.split(",")
DETAIL_NAME = "20880000000000000156_20260301_业务明细.csv"
SUMMARY_NAME = "20880000000000000156_20260301_业务明细(汇总).csv"


def bill_row(kind: str = "退款", number: str = "refunddesk-payout-1",
             received: str = "-900.00", finished: str = "2026-03-01 10:12:33",
             trade: str = "2026030122001404680500054321") -> dict[str, str]:
    """One line of the detail list, padded with tabs as Alipay writes them."""
    return {"支付宝交易号": f"{trade}\t", "商户订单号": "AL-PAYOUT-1\t", "业务类型": kind,
            "商品名称": "VPN 年付", "创建时间": "2026-03-01 10:12:30", "完成时间": finished,
            "订单金额（元）": received.removeprefix("-"), "商家实收（元）": received,
            "退款批次号/请求号": f"{number}\t" if kind == "退款" else "", "服务费（元）": "0.00"}


def trade_row() -> dict[str, str]:
    return bill_row(kind="交易", received="900.00", number="")


def detail_text(rows: list[dict[str, str]], *, footer: bool = True) -> str:
    lines = ["#支付宝业务明细查询", "#账号：[20880000000000000156]",
             "#起始日期：[2026年03月01日 00:00:00]   终止日期：[2026年03月02日 00:00:00]",
             "#-----------------------------------------业务明细列表"
             "----------------------------------------",
             ",".join(COLUMNS)]
    lines += [",".join(row.get(name, "") for name in COLUMNS) for row in rows]
    if footer:
        lines += ["#-----------------------------------------业务明细列表结束"
                  "------------------------------------",
                  f"#交易合计：{sum(r['业务类型'] == '交易' for r in rows)}笔",
                  "#导出时间：[2026年03月02日 09:12:33]"]
    return "\r\n".join(lines) + "\r\n"


def gbk_zip(members: dict[str, bytes]) -> bytes:
    """A zip whose member names are GBK bytes without the UTF-8 flag, as Alipay's are: each
    written under an ASCII placeholder of the same length, then put in its place."""
    buffer = io.BytesIO()
    names = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members.items()):
            encoded = name.encode("gbk")
            placeholder = (chr(ord("A") + index) * len(encoded)).encode()
            names[placeholder] = encoded
            archive.writestr(placeholder.decode(), data)
    data = buffer.getvalue()
    for placeholder, encoded in names.items():
        assert data.count(placeholder) == 2  # its local header and the central directory
        data = data.replace(placeholder, encoded)
    return data


def bill_zip(rows: list[dict[str, str]]) -> bytes:
    summary = "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n".encode("gbk")
    return gbk_zip({DETAIL_NAME: detail_text(rows).encode("gbk"), SUMMARY_NAME: summary})


def upload(data: bytes, name: str = "20880000000000000156_20260301.csv.zip"):
    return SimpleUploadedFile(name, data, content_type="application/zip")


def read(data: bytes):
    return gateways.gateway("alipay").read_statement(data)


def refused(data: bytes) -> list[str]:
    with pytest.raises(SettlementFileError) as error:
        import_settlement(upload(data), gateway="alipay", actor=finance())
    assert not Settlement.objects.exists()
    return error.value.problems


# -- reading -----------------------------------------------------------------------------


def test_the_refund_rows_of_alipays_bill_are_read_and_its_trades_passed_over():
    # given Alipay's bill with a trade and two refunds, values padded with tabs
    data = bill_zip([trade_row(), bill_row(number="refunddesk-payout-7", received="-12.34"),
                     bill_row(number="refunddesk-payout-8", finished="2026-03-01 23:59:59")])
    # when it is read
    rows = read(data)
    # then each refund is its request number, the money that left, in Beijing time
    assert [(row.line, row.refund_id, row.amount_minor, row.currency, row.status)
            for row in rows] == [(7, "refunddesk-payout-7", 1234, "CNY", "success"),
                                 (8, "refunddesk-payout-8", 90000, "CNY", "success")]
    assert rows[1].settled_at == datetime(2026, 3, 1, 23, 59, 59, tzinfo=BEIJING)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_the_detail_file_alone_is_read_in_gbk_or_utf_8(encoding):
    data = detail_text([trade_row(), bill_row()]).encode(encoding)
    [row] = read(data)
    assert (row.refund_id, row.amount_minor) == ("refunddesk-payout-1", 90000)


def test_a_zip_whose_names_carry_the_utf_8_flag_is_read_too():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(DETAIL_NAME, detail_text([bill_row()]).encode("gbk"))
    [row] = read(buffer.getvalue())
    assert row.refund_id == "refunddesk-payout-1"


def test_a_bill_saved_with_ascii_brackets_in_its_header_is_read():
    text = detail_text([bill_row()]).replace("（元）", "(元)")
    assert read(text.encode("gbk"))[0].amount_minor == 90000


# -- matching ----------------------------------------------------------------------------


@pytest.fixture
def standin(settings):
    with AlipayStandIn() as server:
        settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = server.gateway_options()
        gateways.reset()
        yield server
    gateways.reset()


def test_finance_reconciles_alipays_bill_with_the_payouts_alipay_made(standin):
    # given two cases refunded through Alipay
    payouts = []
    for trade in ("2026030122001404680500000001", "2026030122001404680500000002"):
        standin.add_payment(trade, 90000)
        case = approved_case(gateway="alipay", reference=trade)
        run_pass(case_ids=[case.pk])
        payouts.append(Payout.objects.get(case=case))
    assert {payout.state for payout in payouts} == {PayoutState.SUCCEEDED}
    # when finance imports Alipay's bill listing both (one for less than we paid) and a
    # refund that is not ours
    finished = payouts[0].settled_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    data = bill_zip([trade_row(),
                     bill_row(number=payouts[0].gateway_refund_id, finished=finished),
                     bill_row(number=payouts[1].gateway_refund_id, received="-899.00",
                              finished=finished),
                     bill_row(number="another-system-9", finished=finished)])
    settlement = import_settlement(upload(data), gateway="alipay", actor=finance())
    # then the rows are matched by request number, and the difference is shown
    outcomes = {line.refund_id: line.outcome for line in settlement.lines.all()}
    assert outcomes == {payouts[0].gateway_refund_id: "matched",
                        payouts[1].gateway_refund_id: "differs", "another-system-9": "unknown"}


# -- refusals ----------------------------------------------------------------------------


def test_a_zip_without_a_detail_file_is_refused_naming_what_it_holds():
    problems = refused(gbk_zip({SUMMARY_NAME: b"#"}))
    assert "业务明细" in problems[0] and SUMMARY_NAME in problems[0]


def test_a_damaged_zip_is_refused():
    data = bill_zip([bill_row()])
    problems = refused(data[:len(data) // 2])
    assert "zip" in problems[0]


def test_our_generic_csv_uploaded_for_alipay_is_refused_with_what_to_import():
    problems = refused(b"refund_id,amount,currency,settled_at,status\nx,1.00,CNY,"
                       b"2026-03-01T10:00:00+08:00,succeeded\n")
    assert problems[0].startswith("Line 1:")
    assert "业务明细" in problems[0] and "退款批次号/请求号" in problems[0]


def test_bad_refund_rows_are_refused_line_by_line_and_nothing_is_stored():
    data = bill_zip([trade_row(), bill_row(number=""), bill_row(received="-9.999"),
                     bill_row(finished="2026/03/01 10:12"), bill_row()])
    problems = refused(data)
    assert len(problems) == 3
    assert problems[0].startswith("Line 7, column 退款批次号/请求号:")
    assert problems[1].startswith("Line 8, column 商家实收（元）:") and "-9.999" in problems[1]
    assert problems[2].startswith("Line 9, column 完成时间:") and "2026/03/01" in problems[2]


def test_a_line_after_the_end_of_the_detail_list_is_refused():
    text = detail_text([bill_row()]) + ",".join(bill_row().get(c, "") for c in COLUMNS)
    problems = refused(text.encode("gbk"))
    assert problems[0].startswith("Line 10:") and "业务明细列表结束" in problems[0]


def test_a_bill_with_trades_only_has_nothing_to_reconcile():
    problems = refused(bill_zip([trade_row(), trade_row()]))
    assert "no refunds" in problems[0]


def test_a_file_in_neither_gbk_nor_utf_8_is_refused():
    problems = refused(b"#\xff\xfe\xff\n")
    assert problems[0].startswith("Line 1:") and "GBK" in problems[0]


def test_a_file_without_a_header_line_is_refused():
    problems = refused("#支付宝业务明细查询\r\n#导出时间：[2026年03月02日 09:12:33]\r\n"
                       .encode("gbk"))
    assert "header" in problems[0]
