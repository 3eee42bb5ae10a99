"""tencent-cloud: recomputing POLICIES.md and Tencent Cloud's own published examples."""

from pathlib import Path

from tests.conftest import EXAMPLE_ORDER
from tests.policy.builders import earlier_refund, line, money_back, order, pay, quote, step_codes

HOURLY = str(Path(__file__).parent / "policies" / "tencent-cloud-hourly.toml")


def cvm_year(line_id="1", *, paid="507.96", start="2026-03-01 10:05:00", **kwargs):
    return line(line_id, paid=paid, start=start, end="2027-03-01 10:05:00", term=("month", 12),
                **kwargs)


def test_the_design_example_gets_its_cash_back_to_the_balance_within_five_days():
    result = quote("tencent-cloud", EXAMPLE_ORDER, "2026-03-04 12:00:00")

    assert (result["outcome"], result["rule"], result["total"]) == (
        "full", "five_day_no_reason", "900.00")
    assert result["allocation"] == [{"payment": "P1", "method": "alipay", "funding": "cash",
                                     "destination": "balance", "amount": "900.00"}]
    assert (result["needs_review"], result["handling"]) == (False, "approve")


def test_the_five_day_window_includes_its_last_second_and_not_one_more():
    facts = order(cvm_year(paid="100.00"), payments=[pay("P1", "alipay", "100.00")],
                  placed="2026-03-01 10:00:00")

    last = quote("tencent-cloud", facts, "2026-03-06 10:05:00")
    after = quote("tencent-cloud", facts, "2026-03-06 10:05:01")

    assert last["rule"] == "five_day_no_reason"
    assert after["rule"] == "normal_refund"
    assert "rule.window_closed" in step_codes(after)


def test_vouchers_are_never_returned_and_gift_credit_comes_back_as_gift_credit():
    # Published example (云服务退货说明, 案例一 场景1): 51 元/月 × 12 × 83 % = 507.96, paid with a
    # 100 voucher, 200 cash and 207.96 gift credit; the five-day refund is 407.96.
    facts = order(cvm_year(), placed="2026-03-01 10:00:00", payments=[
        pay("P1", "voucher", "100.00"), pay("P2", "wechat_pay", "200.00"),
        pay("P3", "gift", "207.96")])

    result = quote("tencent-cloud", facts, "2026-03-03 09:00:00")

    assert result["total"] == "407.96"
    assert money_back(result) == {"P2": "200.00", "P3": "207.96"}
    assert {e["payment"]: e["destination"] for e in result["allocation"]} == {
        "P2": "balance", "P3": "gift"}


def test_the_five_day_refund_is_once_per_account_and_product_ever():
    facts = order(cvm_year(paid="100.00"), payments=[pay("P1", "alipay", "100.00")],
                  placed="2026-03-01 10:00:00",
                  refunds=[earlier_refund("2024-05-01 12:00:00", rule="five_day_no_reason")])

    result = quote("tencent-cloud", facts, "2026-03-02 10:05:00")

    assert result["rule"] == "normal_refund"
    assert "rule.quota_used" in step_codes(result)


def test_an_earlier_five_day_refund_of_another_product_does_not_use_the_quota():
    facts = order(cvm_year(paid="100.00"), payments=[pay("P1", "alipay", "100.00")],
                  placed="2026-03-01 10:00:00", refunds=[earlier_refund(
                      "2026-01-01 12:00:00", rule="five_day_no_reason", product="cbs")])

    assert quote("tencent-cloud", facts, "2026-03-02 10:05:00")["rule"] == "five_day_no_reason"


def test_one_order_of_two_servers_gets_the_five_day_refund_for_one_only():
    # "每个账户可享受 1 次 1 台": the quota counts lines granted earlier in the same request.
    facts = order(cvm_year("1", paid="365.00"), cvm_year("2", paid="365.00"),
                  payments=[pay("P1", "alipay", "730.00")], placed="2026-03-01 10:00:00")

    result = quote("tencent-cloud", facts, "2026-03-02 10:05:00")

    assert [(x["id"], x["rule"], x["refundable"]) for x in result["lines"]] == [
        ("1", "five_day_no_reason", "365.00"), ("2", "normal_refund", "364.00")]


def test_a_normal_refund_deducts_the_days_used_of_the_discounted_price_voucher_first():
    # 960.00 paid (900 cash + 60 voucher) for 365 days; 96 days used (95 days and 2 hours,
    # rounded up): consumed = 960 × 96 / 365 = 252.4931…; refund = 900 − 252.4931 = 647.51.
    result = quote("tencent-cloud", EXAMPLE_ORDER, "2026-06-04 12:00:00")

    assert result["lines"][0] | {"excluded": None} == {
        "id": "1", "rule": "normal_refund", "refundable": "647.51", "eligible": "900.00",
        "consumed": "252.49", "fee": "0.00", "excluded": None}
    assert result["outcome"] == "partial"


def test_a_day_started_counts_as_a_whole_day():
    facts = order(line(paid="365.00", start="2026-01-01 00:00:00", end="2027-01-01 00:00:00"),
                  payments=[pay("P1", "alipay", "365.00")], placed="2025-12-31 23:00:00",
                  kind="renewal")

    result = quote("tencent-cloud", facts, "2026-01-11 00:00:01")

    assert result["total"] == "354.00"  # 11 days used, not 10


def test_a_renewal_that_has_not_started_is_refunded_in_full():
    # Published example (退还包年包月实例退费说明, 案例3): the unstarted renewal comes back.
    facts = order(cvm_year(start="2027-03-01 10:05:00", paid="507.96")
                  | {"service_end": "2028-03-01T10:05:00+08:00"},
                  payments=[pay("P1", "alipay", "507.96")], placed="2026-03-20 10:00:00",
                  kind="renewal")

    result = quote("tencent-cloud", facts, "2026-03-25 10:00:00")

    assert (result["outcome"], result["total"]) == ("full", "507.96")
    assert "line.not_started" in step_codes(result)


def test_pay_as_you_go_and_promotion_lines_are_not_refundable():
    facts = order(
        line("1", paid="50.00", start="2026-03-01 10:00:00", billing="payg", term=None),
        cvm_year("2", paid="50.00", flags=("promotion_non_refundable",)),
        payments=[pay("P1", "alipay", "100.00")], placed="2026-03-01 10:00:00")

    result = quote("tencent-cloud", facts, "2026-03-02 10:00:00")

    assert [x["excluded"] for x in result["lines"]] == [
        "payg_not_refundable", "promotion_non_refundable"]
    assert (result["outcome"], result["handling"], result["total"]) == ("none", "reject", "0.00")


def test_a_refund_after_the_service_ended_is_floored_at_zero():
    result = quote("tencent-cloud", EXAMPLE_ORDER, "2027-04-01 12:00:00")

    assert (result["outcome"], result["total"]) == ("none", "0.00")
    assert "line.refund_floored" in step_codes(result)


def test_a_refund_splits_back_to_cash_and_gift_in_the_ratio_they_were_paid():
    # Published example (云服务退货说明, 案例一 场景2), priced the published way: the first 96
    # hours at 0.42/h, then 0.21/h. Second five-day request, 120 h used: consumed 45.36,
    # refund 362.60 = 177.76 cash + 184.84 gift credit.
    facts = order(cvm_year(), placed="2026-03-01 10:00:00",
                  payments=[pay("P1", "voucher", "100.00"), pay("P2", "alipay", "200.00"),
                            pay("P3", "gift", "207.96")],
                  refunds=[earlier_refund("2025-01-01 12:00:00", rule="five_day_no_reason")])

    result = quote(HOURLY, facts, "2026-03-06 10:05:00")

    assert result["total"] == "362.60"
    assert result["lines"][0]["consumed"] == "45.36"
    assert money_back(result) == {"P2": "177.76", "P3": "184.84"}


def test_the_published_48_hour_example_recomputes_with_hourly_pricing():
    # 退还包年包月实例退费说明, 案例2: 407.96 paid in cash (after a 100 voucher), 48 h used at
    # 0.42/h: 407.96 − 20.16 = 387.80.
    facts = order(cvm_year(paid="507.96"), placed="2026-03-01 10:00:00",
                  payments=[pay("P1", "voucher", "100.00"), pay("P2", "alipay", "407.96")],
                  refunds=[earlier_refund("2025-01-01 12:00:00", rule="five_day_no_reason")])

    assert quote(HOURLY, facts, "2026-03-03 10:05:00")["total"] == "387.80"
