"""WeChat Pay's refund bill (bill_type=REFUND) imported for reconciliation: files written
here in WeChat Pay's format (backquoted fields, a summary at the end, yuan, Beijing time),
imported through payouts.reconcile.import_settlement."""

from __future__ import annotations

import gzip
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.payouts import gateways
from refunddesk.payouts.models import Payout, Settlement
from refunddesk.payouts.reconcile import SettlementFileError, import_settlement
from refunddesk.payouts.runner import run_pass
from tests.payouts.settlement_builders import finance
from tests.payouts.wechat_pay_cases import payout_of, use_standin, wechat_case
from tests.payouts.wechat_pay_standin import WeChatPayStandIn

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")

HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
          "交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,"
          "商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,"
          "订单金额,申请退款金额,费率备注")
SUMMARY = ("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
           "申请退款总金额")


def detail(refund_id: str, yuan: str = "300.00", *, status: str = "SUCCESS",
           success_time: str = "2026-03-04 10:00:05", out_refund_no: str = "",
           requested: str | None = None, name: str = "港湾 VPN 一年") -> dict[str, str]:
    return {"交易时间": "2026-03-01 10:00:03", "公众账号ID": "wxd678efh567hg6787",
            "商户号": "1900000109", "特约商户号": "0", "设备号": "",
            "微信订单号": "4200002026030112345678901234", "商户订单号": "VPN-ORDER-1",
            "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "交易类型": "NATIVE",
            "交易状态": "REFUND", "付款银行": "OTHERS", "货币种类": "CNY",
            "应结订单金额": "0.00", "代金券金额": "0.00",
            "退款申请时间": "2026-03-04 10:00:01", "退款成功时间": success_time,
            "微信退款单号": refund_id, "商户退款单号": out_refund_no, "退款金额": yuan,
            "充值券退款金额": "0.00", "退款类型": "ORIGINAL", "退款状态": status,
            "商品名称": name, "商户数据包": "", "手续费": "-1.80000", "费率": "0.60%",
            "订单金额": "300.00", "申请退款金额": requested or yuan, "费率备注": ""}


def bill(rows: list[dict[str, str]], *, count: int | None = None, refunded: str | None = None,
         summary: bool = True, bom: bool = False, newline: str = "\n") -> str:
    lines = [HEADER]
    lines += [",".join("`" + row[name] for name in HEADER.split(",")) for row in rows]
    total = sum(fen(row["退款金额"]) for row in rows)
    requested = sum(fen(row["申请退款金额"]) for row in rows)
    if summary:
        lines += [SUMMARY, ",".join("`" + value for value in (
            str(len(rows) if count is None else count), "0.00",
            refunded or f"{total / 100:.2f}", "0.00", "-1.80000", "300.00",
            f"{requested / 100:.2f}"))]
    return ("\ufeff" if bom else "") + newline.join(lines) + newline


def fen(yuan: str) -> int:
    digits = yuan.replace(".", "")
    return int(digits) if digits.isdigit() else 0


def upload(text: str, *, name: str = "refund-bill-2026-03-04.csv", packed: bool = False,
           encoding: str = "utf-8") -> SimpleUploadedFile:
    data = text.encode(encoding)
    return SimpleUploadedFile(name, gzip.compress(data) if packed else data)


def imported(text: str, **options) -> Settlement:
    return import_settlement(upload(text, **options), gateway="wechat_pay", actor=finance())


def refused(text: str, **options) -> SettlementFileError:
    with pytest.raises(SettlementFileError) as error:
        imported(text, **options)
    assert Settlement.objects.count() == 0
    return error.value


@pytest.fixture
def standin(settings):
    with WeChatPayStandIn() as server:
        use_standin(settings, server)
        yield server
    gateways.reset()


def paid(standin: WeChatPayStandIn, order_id: str, reference: str,
         behaviour: str = "succeed") -> Payout:
    standin.add_payment(reference, 30000, behaviour=behaviour)
    case = wechat_case(order_id, reference)
    run_pass(case_ids=[case.pk])
    return payout_of(case)


def test_a_refund_bill_of_our_refunds_matches_them_at_beijing_time(standin):
    # given two payouts WeChat Pay refunded, one still processing
    first = paid(standin, "WX-BILL-1", "4200002026030100000000000001")
    second = paid(standin, "WX-BILL-2", "4200002026030100000000000002", "processing")
    # when finance imports the day's refund bill listing both
    settlement = imported(bill([
        detail(first.gateway_refund_id, out_refund_no=first.idempotency_key),
        detail(second.gateway_refund_id, status="PROCESSING", success_time="",
               out_refund_no=second.idempotency_key)]))
    # then both rows match their payouts, read in fen and Beijing time
    lines = {line.refund_id: line for line in settlement.lines.all()}
    assert lines[first.gateway_refund_id].outcome == "matched"
    assert lines[first.gateway_refund_id].amount_minor == 30000
    assert lines[first.gateway_refund_id].settled_at == datetime(2026, 3, 4, 10, 0, 5,
                                                                 tzinfo=BEIJING)
    assert lines[second.gateway_refund_id].outcome == "matched"
    assert lines[second.gateway_refund_id].status == "pending"
    assert lines[second.gateway_refund_id].settled_at == datetime(2026, 3, 4, 10, 0, 1,
                                                                  tzinfo=BEIJING)


def test_a_row_whose_amount_differs_from_our_payout_is_shown_as_differing(standin):
    payout = paid(standin, "WX-BILL-3", "4200002026030100000000000003")
    settlement = imported(bill([detail(payout.gateway_refund_id, "299.00")]))
    line = settlement.lines.get(refund_id=payout.gateway_refund_id)
    assert line.outcome == "differs"
    assert line.differences[0]["field"] == "amount"


def test_a_refund_we_do_not_know_is_listed_as_not_ours(standin):
    settlement = imported(bill([detail("50300807172026030406006664916", "12.34")]))
    assert settlement.lines.get().outcome == "unknown"


def test_the_requested_amount_is_compared_when_a_coupon_took_part_of_the_refund(standin):
    # given a refund of 300.00 of which WeChat Pay's own coupon took back 10.00
    payout = paid(standin, "WX-BILL-4", "4200002026030100000000000004")
    text = bill([detail(payout.gateway_refund_id, "290.00", requested="300.00")])
    # then the row is compared by what we asked for
    assert imported(text).lines.get(refund_id=payout.gateway_refund_id).outcome == "matched"


def test_a_bill_with_a_bom_crlf_line_ends_and_commas_in_product_names_is_read(standin):
    text = bill([detail("50300807172026030406006664916", name="VPN, 一年")], bom=True,
                newline="\r\n")
    assert imported(text).lines.get().refund_id == "50300807172026030406006664916"


def test_a_gzipped_bill_as_downloaded_is_read(standin):
    text = bill([detail("50300807172026030406006664916")])
    assert imported(text, packed=True, name="refund-bill.csv.gz").lines.count() == 1


def test_a_bill_whose_summary_counts_other_rows_is_refused(standin):
    error = refused(bill([detail("50300807172026030406006664916")], count=2))
    assert error.problems == ["Line 4: the summary counts 2 refunds, the file lists 1. The "
                              "file is incomplete or was changed; download it again."]


def test_a_bill_whose_summary_total_differs_from_its_rows_is_refused(standin):
    error = refused(bill([detail("50300807172026030406006664916", "300.00")],
                         refunded="310.00"))
    assert "退款总金额 is 310.00, the rows add up to 300.00" in error.problems[0]


def test_a_bill_cut_short_before_its_summary_is_refused(standin):
    error = refused(bill([detail("50300807172026030406006664916")], summary=False))
    assert "cut short" in error.problems[0]


def test_bad_rows_are_refused_line_by_line(standin):
    text = bill([detail("50300807172026030406006664916", "3OO.00"),
                 detail("50300807172026030406006664917", status="SOMETIMES"),
                 detail("", success_time="04/03/2026")])
    error = refused(text)
    assert error.problems == [
        "Line 2, column 申请退款金额: “3OO.00” is not an amount in yuan (like 300.00).",
        "Line 3, column 退款状态: “SOMETIMES” is not a refund status of WeChat Pay's "
        "(SUCCESS, PROCESSING, ABNORMAL, CHANGE, CLOSED, REFUNDCLOSE).",
        "Line 4, column 微信退款单号: the value is empty.",
        "Line 4, column 退款成功时间: “04/03/2026” is not a time like 2026-03-01 10:00:03.",
    ]


def test_a_row_with_fields_missing_is_refused(standin):
    text = bill([detail("50300807172026030406006664916")])
    lines = text.split("\n")
    lines[1] = lines[1].rsplit(",`", 3)[0]
    error = refused("\n".join(lines))
    assert error.problems[0] == "Line 2: 26 fields where the first line names 29 columns."


def test_a_file_that_is_not_a_refund_bill_is_refused(standin):
    error = refused("refund_id,amount,currency,settled_at,status\nre_1,1.00,CNY,"
                    "2026-03-01T10:00:00+08:00,succeeded\n")
    assert error.problems[0].startswith("Line 1: this is not WeChat Pay's refund bill")


def test_a_bill_saved_as_gbk_is_refused_as_not_utf8(standin):
    error = refused(bill([detail("50300807172026030406006664916")]), encoding="gbk")
    assert "not UTF-8" in error.problems[0]
