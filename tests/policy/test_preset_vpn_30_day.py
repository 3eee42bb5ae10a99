"""vpn-30-day: an unconditional 30-day money-back guarantee on the first purchase, a
prorated suggestion after it, nothing for renewals, and the stores refund their own sales."""

from tests.policy.builders import line, order, pay, quote, step_codes


def vpn_order(*, placed="2026-07-01 08:00:00", paid="99.00", kind="new", channel="direct",
              orders=None, term=("year", 1), end="2027-07-01 08:00:00", payments=None):
    return order(line(paid=paid, start=placed, end=end, term=term, product="vpn",
                      category="vpn"),
                 payments=payments or [pay("P1", "card", paid)], placed=placed, kind=kind,
                 channel=channel, currency="USD", orders=orders)


def test_the_published_window_ends_before_8_am_on_the_30th_day():
    # ExpressVPN: "if you place an order at 8 a.m. on July 1, you can contact Support
    # anytime before 8 a.m. on July 31".
    facts = vpn_order()

    inside = quote("vpn-30-day", facts, "2026-07-31 07:59:59")
    outside = quote("vpn-30-day", facts, "2026-07-31 08:00:00")

    assert (inside["rule"], inside["outcome"], inside["handling"]) == (
        "money_back", "full", "approve")
    assert inside["allocation"][0]["destination"] == "original"
    assert (outside["rule"], outside["handling"], outside["needs_review"]) == (
        "after_window", "suggest", True)


def test_the_guarantee_is_for_the_first_purchase_of_the_product_only():
    earlier = [{"id": "O-0", "product": "vpn", "kind": "new",
                "placed_at": "2025-01-01T00:00:00+08:00"}]

    result = quote("vpn-30-day", vpn_order(orders=earlier), "2026-07-02 08:00:00")

    assert result["rule"] == "after_window"


def test_after_the_window_the_unused_days_are_suggested():
    # 99.00 for 365 days, 45 days used: 99 × 320 / 365 = 86.79.
    result = quote("vpn-30-day", vpn_order(), "2026-08-15 08:00:00")

    assert (result["total"], result["outcome"]) == ("86.79", "partial")
    assert "handling.suggest" in step_codes(result)


def test_a_renewal_is_not_refundable():
    result = quote("vpn-30-day", vpn_order(kind="renewal"), "2026-07-02 08:00:00")

    assert (result["outcome"], result["lines"][0]["excluded"]) == (
        "none", "renewal_not_refundable")


def test_store_purchases_are_sent_to_the_store():
    apple = quote("vpn-30-day", vpn_order(channel="app_store"), "2026-07-02 08:00:00")
    google = quote("vpn-30-day", vpn_order(channel="google_play"), "2026-07-02 08:00:00")

    assert apple["outcome"] == google["outcome"] == "none"
    assert any("ask Apple for the refund" in text for text in apple["explanation"])
    assert any("ask Google Play for the refund" in text for text in google["explanation"])


def test_the_full_amount_comes_back_whatever_paid_for_it():
    facts = vpn_order(payments=[pay("P1", "paypal", "89.00"), pay("P2", "gift", "10.00")])

    result = quote("vpn-30-day", facts, "2026-07-10 08:00:00")

    assert [(e["payment"], e["destination"], e["amount"]) for e in result["allocation"]] == [
        ("P1", "original", "89.00"), ("P2", "gift", "10.00")]
