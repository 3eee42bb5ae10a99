"""alibaba-cloud: five-day refunds once per product per calendar year, partial refunds with
a 1.5 factor in the first 30 days, money back by the original route."""

from tests.policy.builders import earlier_refund, line, money_back, order, pay, quote, step_codes


def ecs(line_id="1", *, paid="1200.00", start="2026-03-01 10:00:00",
        end="2027-03-01 10:00:00", **kwargs):
    return line(line_id, paid=paid, start=start, end=end, product="ecs", **kwargs)


def ecs_order(*lines, payments=None, **kwargs):
    return order(*(lines or (ecs(),)), payments=payments or [pay("P1", "card", "1200.00")],
                 placed="2026-03-01 09:59:00", **kwargs)


def test_within_five_days_cash_and_balance_come_back_but_vouchers_do_not():
    facts = ecs_order(payments=[pay("P1", "alipay", "1000.00"), pay("P2", "balance", "150.00"),
                                pay("P3", "voucher", "50.00")])

    result = quote("alibaba-cloud", facts, "2026-03-06 10:00:00")

    assert (result["rule"], result["total"]) == ("five_day_no_reason", "1150.00")
    assert [(e["payment"], e["destination"], e["amount"]) for e in result["allocation"]] == [
        ("P1", "original", "1000.00"), ("P2", "balance", "150.00")]


def test_the_five_day_quota_is_once_per_product_in_a_calendar_year():
    this_year = ecs_order(refunds=[earlier_refund("2026-01-05 12:00:00",
                                                  rule="five_day_no_reason", product="ecs")])
    last_year = ecs_order(refunds=[earlier_refund("2025-12-31 23:59:59",
                                                  rule="five_day_no_reason", product="ecs")])

    assert quote("alibaba-cloud", this_year, "2026-03-02 10:00:00")["rule"] == "partial_refund"
    assert quote("alibaba-cloud", last_year, "2026-03-02 10:00:00")["rule"] == (
        "five_day_no_reason")


def test_the_calendar_year_is_counted_in_china_time():
    # 2025-12-31T16:30Z is already 1 January 2026 in Asia/Shanghai: it counts for 2026.
    facts = ecs_order(refunds=[earlier_refund("2025-12-31T16:30:00+00:00",
                                              rule="five_day_no_reason", product="ecs")])

    result = quote("alibaba-cloud", facts, "2026-03-02 10:00:00")

    assert result["rule"] == "partial_refund"
    assert "rule.quota_used" in step_codes(result)


def test_under_30_days_used_the_consumption_costs_one_and_a_half_times():
    # 1200.00 for 365 days; 10 days used: consumed = 1200 × 10 / 365 × 1.5 = 49.3150…
    facts = ecs_order(refunds=[earlier_refund("2026-01-05 12:00:00",
                                              rule="five_day_no_reason", product="ecs")])

    result = quote("alibaba-cloud", facts, "2026-03-10 11:00:00")

    assert result["lines"][0]["consumed"] == "49.32"
    assert result["total"] == "1150.68"
    assert "consumed.time_ratio_penalty" in step_codes(result)


def test_from_30_days_used_the_consumption_is_the_plain_day_ratio():
    facts = ecs_order()

    result = quote("alibaba-cloud", facts, "2026-03-31 10:00:00")  # exactly 30 days

    assert result["total"] == "1101.37"  # 1200 − 1200 × 30 / 365 = 1101.369…
    assert "consumed.time_ratio" in step_codes(result)


def test_the_published_30_day_subscription_example_with_the_first_month_factor():
    # Alibaba's FAQ: a 30-day subscription at USD 30 used 10 days has USD 20 of remaining
    # value. POLICIES.md's partial_refund applies its ×1.5 within the first 30 days of use:
    # 30 − 30 × 10 / 30 × 1.5 = 15.00.
    facts = order(line(paid="30.00", start="2026-03-01 00:00:00", end="2026-03-31 00:00:00",
                       product="ecs", term=("month", 1)),
                  payments=[pay("P1", "paypal", "30.00")], placed="2026-02-28 23:00:00",
                  currency="USD", kind="renewal")

    assert quote("alibaba-cloud", facts, "2026-03-11 00:00:00")["total"] == "15.00"


def test_an_invoiced_order_is_refunded_to_the_balance():
    result = quote("alibaba-cloud", ecs_order(invoiced=True), "2026-03-02 10:00:00")

    assert [e["destination"] for e in result["allocation"]] == ["balance"]


def test_a_route_that_cannot_take_refunds_falls_back_to_the_balance():
    facts = ecs_order(payments=[pay("P1", "bank_transfer", "1200.00")])

    result = quote("alibaba-cloud", facts, "2026-03-02 10:00:00")

    assert result["allocation"][0]["destination"] == "balance"


def test_a_card_refund_names_the_balance_as_its_fallback():
    result = quote("alibaba-cloud", ecs_order(), "2026-03-02 10:00:00")

    assert result["allocation"][0] | {} == {
        "payment": "P1", "method": "card", "funding": "cash", "destination": "original",
        "amount": "1200.00", "fallback": "balance"}


def test_transferred_marketplace_and_promotion_lines_are_not_refundable():
    facts = ecs_order(ecs("1", paid="400.00", flags=("transferred",)),
                      ecs("2", paid="400.00", flags=("marketplace_image",)),
                      ecs("3", paid="400.00", flags=("promotion_non_refundable",)))

    result = quote("alibaba-cloud", facts, "2026-03-02 10:00:00")

    assert [x["excluded"] for x in result["lines"]] == [
        "transferred", "marketplace_image", "promotion_non_refundable"]
    assert money_back(result) == {}
