"""huawei-cloud: hour-exact five-day refunds (10 a year), vouchers back as vouchers,
hourly partial refunds with a handling fee banded by term and time used."""

from pathlib import Path

from tests.policy.builders import earlier_refund, line, order, pay, quote, step_codes

CLOCK_HOURS = str(Path(__file__).parent / "policies" / "huawei-cloud-clock-hours.toml")


def ecs_order(*, paid, start, end, term, placed=None, payments=None, **kwargs):
    return order(line(paid=paid, start=start, end=end, term=term, product="ecs"),
                 payments=payments or [pay("P1", "alipay", paid)],
                 placed=placed or start, **kwargs)


def test_the_published_five_day_example_returns_cash_and_the_voucher():
    # 五天无理由全额退订: 1-month ECS bought 2020/10/20 for 100.00 (voucher 20, cash 80),
    # unsubscribed 10/22: 100.00 back, 80.00 to the cash account, 20.00 as a voucher.
    facts = ecs_order(paid="100.00", start="2020-10-20 09:00:00", end="2020-11-20 09:00:00",
                      term=("month", 1), payments=[pay("P1", "voucher", "20.00"),
                                                   pay("P2", "alipay", "80.00")])

    result = quote("huawei-cloud", facts, "2020-10-22 09:00:00")

    assert (result["rule"], result["outcome"], result["total"]) == (
        "five_day_no_reason", "full", "100.00")
    assert [(e["payment"], e["destination"], e["amount"]) for e in result["allocation"]] == [
        ("P1", "voucher", "20.00"), ("P2", "balance", "80.00")]


def test_the_five_day_window_is_hour_exact_and_ends_before_its_last_second():
    # Opened 2022/11/24 14:30:30 → refundable in full until, not at, 2022/11/29 14:30:30.
    facts = ecs_order(paid="100.00", start="2022-11-24 14:30:30", end="2022-12-24 14:30:30",
                      term=("month", 1))

    assert quote("huawei-cloud", facts, "2022-11-29 14:30:29")["rule"] == "five_day_no_reason"
    assert quote("huawei-cloud", facts, "2022-11-29 14:30:30")["rule"] == "partial_refund"


def test_ten_five_day_refunds_a_calendar_year_across_all_products():
    used = [earlier_refund(f"2026-0{1 + n % 9}-0{1 + n % 9} 10:00:00", rule="five_day_no_reason",
                           product=f"product-{n}") for n in range(10)]
    facts = ecs_order(paid="100.00", start="2026-11-20 10:00:00", end="2026-12-20 10:00:00",
                      term=("month", 1), refunds=used)
    next_year = ecs_order(paid="100.00", start="2027-01-02 10:00:00",
                          end="2027-02-02 10:00:00", term=("month", 1), refunds=used)

    assert quote("huawei-cloud", facts, "2026-11-21 10:00:00")["rule"] == "partial_refund"
    assert quote("huawei-cloud", next_year, "2027-01-03 10:00:00")["rule"] == (
        "five_day_no_reason")


def test_an_unstarted_renewal_comes_back_in_full_without_fee_or_quota():
    # The published renewal example: a 1-month renewal for 100.00 (voucher 20, cash 80)
    # unsubscribed before it starts: 100.00 back, no fee, the five-day quota untouched.
    used = [earlier_refund("2024-01-01 10:00:00", rule="five_day_no_reason", product=f"p{n}")
            for n in range(10)]
    facts = ecs_order(paid="100.00", start="2024-02-01 00:00:00", end="2024-03-01 00:00:00",
                      term=("month", 1), placed="2024-01-05 10:00:00", kind="renewal",
                      payments=[pay("P1", "voucher", "20.00"), pay("P2", "alipay", "80.00")],
                      refunds=used)

    result = quote("huawei-cloud", facts, "2024-01-10 10:00:00")

    assert (result["rule"], result["total"], result["lines"][0]["fee"]) == (
        "renewal_not_started", "100.00", "0.00")


def test_a_partial_refund_deducts_hours_used_and_a_ten_percent_fee_on_a_one_year_term():
    # 8760.00 cash for 8760 hours; 1000 hours used: consumed 1000.00, fee 10 % = 876.00.
    facts = ecs_order(paid="8760.00", start="2026-01-01 00:00:00", end="2027-01-01 00:00:00",
                      term=("year", 1))

    result = quote("huawei-cloud", facts, "2026-02-11 15:30:00")  # 999.5 h → 1000 h

    assert result["lines"][0] | {} == {
        "id": "1", "rule": "partial_refund", "refundable": "6884.00", "eligible": "8760.00",
        "consumed": "1000.00", "fee": "876.00", "excluded": None}


def test_vouchers_are_not_returned_by_a_partial_refund():
    facts = ecs_order(paid="100.00", start="2026-01-01 00:00:00", end="2026-02-01 00:00:00",
                      term=("month", 1), payments=[pay("P1", "voucher", "26.00"),
                                                   pay("P2", "alipay", "74.00")])

    result = quote("huawei-cloud", facts, "2026-01-11 00:00:00")

    assert {e["payment"] for e in result["allocation"]} == {"P2"}
    assert result["lines"][0]["eligible"] == "74.00"


def fee_percent(term, start, asked):
    years = term[1] if term[0] == "year" else 1
    end = f"{int(start[:4]) + years}{start[4:]}" if term[0] == "year" else "2026-02-01 00:00:00"
    facts = ecs_order(paid="1000.00", start=start, end=end, term=term)
    result = quote("huawei-cloud", facts, asked)
    fee_steps = [s["params"] for s in result["steps"] if s["code"] == "line.fee"]
    return fee_steps[0]["percent"]


def test_the_handling_fee_follows_the_term_and_the_time_used():
    start = "2026-01-01 00:00:00"
    assert fee_percent(("month", 1), start, "2026-01-20 00:00:00") == "10"
    assert fee_percent(("year", 1), start, "2026-06-01 00:00:00") == "10"
    assert fee_percent(("year", 2), start, "2026-12-31 00:00:00") == "15"
    assert fee_percent(("year", 2), start, "2027-01-01 00:00:00") == "15"  # used ≤ 1 year
    assert fee_percent(("year", 2), start, "2027-01-01 00:00:01") == "10"
    assert fee_percent(("year", 3), start, "2026-06-01 00:00:00") == "15"
    assert fee_percent(("year", 3), start, "2027-06-01 00:00:00") == "10"
    assert fee_percent(("year", 3), start, "2028-06-01 00:00:00") == "5"


def test_domains_invoiced_orders_and_trials_are_not_refundable():
    domain = order(line(paid="55.00", start="2026-01-01 00:00:00", end="2027-01-01 00:00:00",
                        product="domain-com", category="domain"),
                   payments=[pay("P1", "alipay", "55.00")], placed="2026-01-01 00:00:00")
    invoiced = ecs_order(paid="100.00", start="2026-01-01 00:00:00", end="2026-02-01 00:00:00",
                         term=("month", 1), invoiced=True)
    trial = order(line(paid="1.00", start="2026-01-01 00:00:00", end="2026-02-01 00:00:00",
                       term=("month", 1), flags=("trial",)),
                  payments=[pay("P1", "alipay", "1.00")], placed="2026-01-01 00:00:00")

    reasons = [quote("huawei-cloud", facts, "2026-01-02 00:00:00")["lines"][0]["excluded"]
               for facts in (domain, invoiced, trial)]

    assert reasons == ["domain_not_refundable", "invoiced", "trial"]


def test_a_refund_over_50000_yuan_needs_a_second_approver():
    facts = ecs_order(paid="60000.00", start="2026-01-01 00:00:00", end="2027-01-01 00:00:00",
                      term=("year", 1))

    assert quote("huawei-cloud", facts, "2026-01-02 00:00:00")["needs_four_eyes"] is True
    small = ecs_order(paid="50000.00", start="2026-01-01 00:00:00", end="2027-01-01 00:00:00",
                      term=("year", 1))
    assert quote("huawei-cloud", small, "2026-01-02 00:00:00")["needs_four_eyes"] is False


def test_the_published_hour_count_recomputes_with_clock_hours():
    # 非五天无理由退订 example: EVS bought 2024/01/01 10:30:00, expiring 2024/02/01 23:59:59,
    # unsubscribed 2024/01/15 18:40:00: used 14 days 8 hours = 344 h of 31 days 14 hours =
    # 758 h, because Huawei truncates to whole clock hours. The preset follows POLICIES.md
    # (elapsed time rounded up); this variant sets `rounding = "clock"`.
    facts = ecs_order(paid="758.00", start="2024-01-01 10:30:00", end="2024-02-01 23:59:59",
                      term=("month", 1), placed="2023-12-31 10:00:00", kind="renewal")

    result = quote(CLOCK_HOURS, facts, "2024-01-15 18:40:00")

    ratio = next(s["params"] for s in result["steps"] if s["code"] == "consumed.time_ratio")
    assert (ratio["used"], ratio["total"]) == (344, "758")
    assert result["lines"][0]["consumed"] == "344.00"
    assert "consumed.time_ratio" in step_codes(result)
