"""What each demo customer buys over the 18 months before `now`.

Cloud customers run servers (monthly or yearly, sometimes with a backup add-on in the same
order), register domains, buy certificates and start pay-as-you-go instances; VPN customers
subscribe by the month, year or two years, directly or through an app store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from refunddesk.billing.demo.catalog import (
    BACKUP_SIZES,
    CVM_MONTHLY,
    CVM_NEW_CUSTOMER_YEARLY_PRICE,
    CVM_PAYG_PLANS,
    CVM_SIZES,
    CVM_YEARLY,
    DOMAIN_TLDS,
    DOMAIN_TOP_FIRST_YEAR,
    DOMAIN_TRANSFER_IN,
    SSL_PLANS,
    VPN_MONTHLY,
    VPN_TWO_YEAR,
    VPN_YEARLY,
    Plan,
    backup_plan,
    domain_plan,
)
from refunddesk.billing.demo.chains import (
    DAY,
    HOUR,
    Buyer,
    Context,
    FirstOrderPrices,
    prepaid_chain,
    priced,
)
from refunddesk.billing.demo.customers import Customer
from refunddesk.billing.demo.drafts import LineDraft
from refunddesk.billing.demo.periods import between, seconds, waking_moment, zone_for
from refunddesk.billing.models import SalesChannel

NOT_REFUNDABLE_PROMOTION = "promotion_non_refundable"
TRANSFERRED = "transferred"


def buy_everything(ctx: Context, customer: Customer) -> None:
    if customer.buys_cloud:
        made = len(ctx.orders)
        _cloud(ctx, customer)
        if len(ctx.orders) == made:
            # Every account in the demo has bought something.
            _server(ctx, customer, _cloud_buyer(ctx, customer), _first_moment(ctx, customer))
    if customer.buys_vpn:
        _vpn(ctx, customer)


def _first_moment(ctx: Context, customer: Customer) -> datetime:
    return waking_moment(ctx.rng, customer.active_from, ctx.now - HOUR,
                         zone_for(customer.cloud_currency))


def _cloud_buyer(ctx: Context, customer: Customer) -> Buyer:
    channel = SalesChannel.RESELLER.value if ctx.rng.random() < 0.04 else "direct"
    return Buyer(customer.person, customer.habits, "cloud", customer.cloud_currency, channel,
                 is_invoiced=customer.is_business)


def _cloud(ctx: Context, customer: Customer) -> None:
    rng, now = ctx.rng, ctx.now
    if customer.recent == "five_day":
        earliest = max(customer.active_from, now - timedelta(days=4, hours=18))
        _server(ctx, customer, _cloud_buyer(ctx, customer),
                between(rng, earliest, now - HOUR))
    else:
        for _ in range(rng.choices((0, 1, 2, 3), weights=(5, 45, 35, 15))[0]):
            _server(ctx, customer, _cloud_buyer(ctx, customer), _first_moment(ctx, customer))
    if customer.recent == "new_site":
        _new_site(ctx, customer)
    if rng.random() < 0.5:
        for _ in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
            _domain(ctx, customer)
    if rng.random() < 0.12:
        _domain_transfer(ctx, customer)
    if rng.random() < 0.2:
        buyer = _cloud_buyer(ctx, customer)
        plan = rng.choices(SSL_PLANS, weights=(50, 25, 15, 10))[0]
        overrides: FirstOrderPrices = {}
        if rng.random() < 0.06:
            overrides = {0: (priced(plan, buyer.currency), (TRANSFERRED,))}
        prepaid_chain(ctx, buyer, [plan], _first_moment(ctx, customer), churn=0.4,
                      first_overrides=overrides)
    if rng.random() < 0.35:
        for _ in range(rng.randint(2, 9)):
            _payg_run(ctx, customer)


def _server(ctx: Context, customer: Customer, buyer: Buyer, first_placed: datetime) -> None:
    rng = ctx.rng
    is_yearly = rng.random() < 0.45
    size = rng.choices(CVM_SIZES, weights=(30, 35, 20, 10, 5))[0]
    bundle: list[Plan] = [(CVM_YEARLY if is_yearly else CVM_MONTHLY)[size]]
    if rng.random() < 0.3:
        bundle.append(backup_plan(rng.choice(BACKUP_SIZES), 12 if is_yearly else 1))
    percent = 90 if buyer.channel == SalesChannel.RESELLER else 100
    overrides: FirstOrderPrices = {}
    roll = rng.random()
    if is_yearly and size == "small" and roll < 0.3:
        overrides[0] = (CVM_NEW_CUSTOMER_YEARLY_PRICE[buyer.currency],
                        (NOT_REFUNDABLE_PROMOTION,))
    elif roll < 0.04:
        overrides[0] = (priced(bundle[0], buyer.currency, percent), (TRANSFERRED,))
    elif roll < 0.14:
        # A first-order discount, refundable like any other price.
        overrides[0] = (priced(bundle[0], buyer.currency, rng.choice((50, 70, 80))), ())
    prepaid_chain(ctx, buyer, bundle, first_placed, churn=0.25 if is_yearly else 0.07,
                  percent=percent, upgrade_chance=0.2 if is_yearly else 0.02,
                  first_overrides=overrides)


def _domain(ctx: Context, customer: Customer) -> None:
    rng = ctx.rng
    buyer = _cloud_buyer(ctx, customer)
    tld = rng.choices(DOMAIN_TLDS, weights=(45, 30, 10, 15))[0]
    years = rng.choices((1, 2, 3, 5), weights=(70, 15, 10, 5))[0]
    bundle = [domain_plan(tld, years)]
    overrides: FirstOrderPrices = {}
    if tld == "top" and years == 1 and rng.random() < 0.5:
        overrides[0] = (DOMAIN_TOP_FIRST_YEAR[buyer.currency], (NOT_REFUNDABLE_PROMOTION,))
    if years == 1 and rng.random() < 0.15:
        bundle.append(SSL_PLANS[0])  # a site: its name and a certificate in one order
    prepaid_chain(ctx, buyer, bundle, _first_moment(ctx, customer), churn=0.3,
                  first_overrides=overrides)


def _new_site(ctx: Context, customer: Customer) -> None:
    """A .com and a certificate for it, bought directly in the last few days: one order,
    two refund policies (the domain's and the certificate's)."""
    rng, now = ctx.rng, ctx.now
    buyer = Buyer(customer.person, customer.habits, "cloud", customer.cloud_currency,
                  "direct", is_invoiced=False)
    placed = between(rng, now - timedelta(days=4, hours=18), now - HOUR)
    prepaid_chain(ctx, buyer, [domain_plan("com", 1), SSL_PLANS[0]], placed, churn=0.3)


def _domain_transfer(ctx: Context, customer: Customer) -> None:
    buyer = _cloud_buyer(ctx, customer)
    placed = _first_moment(ctx, customer)
    line = LineDraft(DOMAIN_TRANSFER_IN, placed + seconds(ctx.rng.randint(60, 3600)), None,
                     DOMAIN_TRANSFER_IN.list_price(buyer.currency),
                     DOMAIN_TRANSFER_IN.price(buyer.currency), None)
    ctx.place(buyer.person, buyer.habits, storefront="cloud", kind="new",
              channel=buyer.channel, placed_at=placed, currency=buyer.currency,
              is_invoiced=buyer.is_invoiced, lines=[line])


def _payg_run(ctx: Context, customer: Customer) -> None:
    """An instance started and released again, billed by the hour once it was released."""
    rng, now = ctx.rng, ctx.now
    buyer = _cloud_buyer(ctx, customer)
    if customer.active_from > now - 3 * HOUR:
        return
    start = waking_moment(rng, customer.active_from, now - 3 * HOUR,
                          zone_for(buyer.currency))
    hours = rng.randint(2, 72) if rng.random() < 0.6 else rng.randint(3 * 24, 45 * 24)
    hours = max(1, min(hours, int((now - timedelta(minutes=20) - start) / HOUR)))
    end = start + hours * HOUR
    plan = CVM_PAYG_PLANS[rng.choices(CVM_SIZES, weights=(25, 35, 25, 10, 5))[0]]
    amount = plan.price(buyer.currency) * hours
    line = LineDraft(plan, start, end, amount, amount, None, usage_hours=hours)
    ctx.place(buyer.person, buyer.habits, storefront="cloud", kind="new",
              channel=buyer.channel, placed_at=end + seconds(rng.randint(60, 900)),
              currency=buyer.currency, is_invoiced=buyer.is_invoiced, lines=[line])


VPN_CHURN = {VPN_MONTHLY.sku: 0.07, VPN_YEARLY.sku: 0.35, VPN_TWO_YEAR.sku: 0.4}


def _vpn(ctx: Context, customer: Customer) -> None:
    rng, now = ctx.rng, ctx.now
    first = customer.first_purchase_at or waking_moment(
        rng, customer.active_from, now - HOUR, zone_for(customer.vpn_currency))
    while True:
        channel = rng.choices(("direct", SalesChannel.APP_STORE.value,
                               SalesChannel.GOOGLE_PLAY.value, SalesChannel.RESELLER.value),
                              weights=(70, 14, 12, 4))[0]
        if customer.recent == "money_back":
            channel = "direct"  # a store refunds store purchases itself; keep the demo's own
        buyer = Buyer(customer.person, customer.habits, "vpn", customer.vpn_currency, channel)
        plan = rng.choices((VPN_MONTHLY, VPN_YEARLY, VPN_TWO_YEAR), weights=(55, 33, 12))[0]
        overrides: FirstOrderPrices = {}
        if channel == "direct" and plan is VPN_MONTHLY and rng.random() < 0.15:
            overrides[0] = (priced(plan, buyer.currency, 50), ())  # first month half price
        ended = prepaid_chain(ctx, buyer, [plan], first, churn=VPN_CHURN[plan.sku],
                              first_overrides=overrides)
        # Some lapsed customers come back later with a new subscription.
        if ended is None or customer.recent or rng.random() >= 0.3:
            return
        first = ended + timedelta(days=rng.randint(5, 120)) + seconds(rng.randint(0, 86399))
        if first > now - DAY:
            return
