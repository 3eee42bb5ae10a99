"""Invariants of the demo data set, checked on what the real importer wrote.

The data is loaded once for the module inside a transaction that is rolled back at the end,
so other test modules start from an empty database; each test runs in a savepoint of it.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Count, F, Min, Sum

from refunddesk.billing.demo import DemoSummary, generate_orders, load_demo_data
from refunddesk.billing.facts import facts_of_orders, order_facts
from refunddesk.billing.importing import Outcome, import_jsonl
from refunddesk.billing.models import (
    Account,
    BalanceEntry,
    Funding,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    Product,
    Subscription,
)
from refunddesk.billing.order_facts import read_order
from refunddesk.billing.order_records import BY_ID, read_record
from refunddesk.policy.facts_reading import read_facts

SEED = 2026
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=SHANGHAI)
DOCUMENTATION_DOMAINS = {"example.com", "example.cn", "example.org"}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        summary = load_demo_data(seed=SEED, now=NOW)
        yield summary
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def generated():
    return generate_orders(seed=SEED, now=NOW)


def _months_later(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def _term_end(start: datetime, unit: str, count: int) -> datetime:
    if unit == "day":
        return start + timedelta(days=count)
    return _months_later(start, count * (12 if unit == "year" else 1))


def _storefront_zone(currency: str):
    return SHANGHAI if currency == "CNY" else UTC


# Generation, without a database


def test_the_same_seed_and_now_generate_identical_orders(generated):
    # given the orders generated once for SEED and NOW
    # when they are generated again
    again = generate_orders(seed=SEED, now=NOW)
    # then they are identical, down to every reference and timestamp
    assert json.dumps(again, sort_keys=True) == json.dumps(generated, sort_keys=True)


def test_a_different_seed_generates_different_orders(generated):
    # when another seed is used with the same now
    other = generate_orders(seed=SEED + 1, now=NOW)
    # then the data differs
    assert json.dumps(other, sort_keys=True) != json.dumps(generated, sort_keys=True)


def test_the_same_instant_in_another_time_zone_generates_the_same_orders(generated):
    # when now is given as the same instant in UTC
    in_utc = generate_orders(seed=SEED, now=NOW.astimezone(UTC))
    # then nothing changes
    assert in_utc == generated


def test_a_now_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="aware"):
        generate_orders(seed=SEED, now=datetime(2026, 11, 22, 12, 0))


def test_every_generated_order_is_valid_order_facts_placed_before_now(generated):
    for facts in generated:
        # then the importer's own reader accepts it
        order = read_order(facts)
        assert order.placed_at <= NOW
        # and times are written in the storefront's zone
        offset = datetime.fromisoformat(facts["placed_at"]).utcoffset()
        assert offset == (timedelta(hours=8) if order.currency == "CNY" else timedelta(0))


def test_accounts_use_only_documentation_mail_domains_and_real_looking_names(generated):
    accounts = {facts["account"]["id"]: facts["account"] for facts in generated}
    domains = {account["email"].rsplit("@", 1)[1] for account in accounts.values()}
    assert domains <= DOCUMENTATION_DOMAINS
    names = [account["name"] for account in accounts.values()]
    chinese = [n for n in names if all("\u4e00" <= ch <= "\u9fff" for ch in n)]
    english = [n for n in names if n.replace(" ", "").isascii() and " " in n]
    assert len(chinese) > 100 and len(english) > 50
    assert len(chinese) + len(english) == len(names)
    assert any(a.get("phone", "").startswith("+86 1") for a in accounts.values())
    assert len({a["email"] for a in accounts.values()}) == len(accounts)


# The loaded database


@pytest.mark.django_db
def test_loading_gives_about_300_accounts_and_2000_orders(demo: DemoSummary):
    # given the demo loaded at NOW
    # then the counts are those of a small but busy shop, and the summary tells them right
    assert 280 <= Account.objects.count() <= 320
    assert 1800 <= Order.objects.count() <= 2200
    assert demo.accounts == Account.objects.count()
    assert demo.orders == Order.objects.count()
    assert demo.subscriptions == Subscription.objects.count()
    assert demo.balance_entries == BalanceEntry.objects.count()


@pytest.mark.django_db
def test_every_demo_order_built_from_the_mirror_is_the_facts_read_from_its_json(demo,
                                                                              generated):
    # given the demo's ~2,000 orders as JSON and as the importer wrote them
    read = {facts["id"]: read_facts(facts) for facts in generated}
    # when the mirror builds their facts from plain rows (the simulator's way) and from
    # records (the way of a request), then both are what the one reader made
    pks = dict(Order.objects.values_list("external_id", "pk"))
    from_rows = facts_of_orders(pks.values())
    for external_id, expected in read.items():
        assert from_rows[pks[external_id]] == expected, external_id
    for external_id in list(read)[::50]:
        record = read_record(BY_ID, external_id)
        assert record is not None
        assert order_facts(record, other_orders=[]) == read[external_id], external_id


def test_orders_look_like_a_cloud_and_a_vpn_storefront(demo):
    orders = Order.objects.all()
    cloud = orders.filter(lines__product__category__in=["cloud_server", "backup", "domain",
                                                        "ssl_certificate"]).distinct()
    vpn = orders.filter(lines__product__category="vpn").distinct()
    assert cloud.filter(currency="CNY").count() > cloud.exclude(currency="CNY").count()
    assert vpn.filter(currency="USD").count() > vpn.exclude(currency="USD").count()
    assert {o.kind for o in orders} == {"new", "renewal", "upgrade"}
    assert set(orders.values_list("channel", flat=True)) == {
        "direct", "app_store", "google_play", "reseller"}
    assert orders.filter(channel="direct").count() > orders.count() * 0.8
    assert not cloud.filter(channel__in=["app_store", "google_play"]).exists()
    assert cloud.filter(is_invoiced=True).exists()
    assert not vpn.filter(is_invoiced=True).exists()
    assert orders.annotate(line_count=Count("lines")).filter(line_count__gt=1).exists()
    flags = [f for line_flags in OrderLine.objects.values_list("flags", flat=True)
             for f in line_flags]
    assert "promotion_non_refundable" in flags and "transferred" in flags


@pytest.mark.django_db
def test_each_orders_payments_add_up_exactly_to_its_lines(demo):
    lines = dict(Order.objects.annotate(total=Sum("lines__amount_paid_minor"))
                 .values_list("external_id", "total"))
    payments = dict(Order.objects.annotate(total=Sum("payments__amount_minor"))
                    .values_list("external_id", "total"))
    assert lines == payments
    assert not OrderLine.objects.filter(amount_paid_minor__gt=F("list_price_minor")).exists()


@pytest.mark.django_db
def test_every_payment_method_and_funding_kind_appears_and_cash_is_traceable(demo):
    methods = set(Payment.objects.values_list("method", flat=True))
    assert {"alipay", "wechat_pay", "card", "paypal", "balance", "voucher", "gift"} <= methods
    assert set(Payment.objects.values_list("funding", flat=True)) == set(Funding.values)
    cash = Payment.objects.filter(funding=Funding.CASH)
    assert not cash.filter(paid_at__isnull=True).exists()
    assert not cash.filter(reference="").exists()
    sandboxed = [PaymentMethod.ALIPAY, PaymentMethod.WECHAT_PAY, PaymentMethod.CARD,
                 PaymentMethod.PAYPAL]
    assert set(cash.filter(method__in=sandboxed).values_list("gateway", flat=True)) == {
        "sandbox"}


@pytest.mark.django_db
def test_service_periods_end_after_they_start_and_prepaid_terms_match_them(demo):
    lines = OrderLine.objects.select_related("order")
    for line in lines:
        if line.billing == "one_time":
            continue
        assert line.service_start is not None
        if line.billing == "payg":
            assert line.term_unit == "" and line.service_end is not None
            assert line.service_end > line.service_start
            continue
        # then a month is a calendar month and a year twelve, on the storefront's clock
        zone = _storefront_zone(line.order.currency)
        start = line.service_start.astimezone(zone)
        assert line.service_end > line.service_start
        assert _term_end(start, line.term_unit, line.term_count) == line.service_end, line


@pytest.mark.django_db
def test_renewals_and_upgrades_follow_an_earlier_order_of_the_same_product(demo):
    first_new = {
        (row["order__account_id"], row["product_id"]): row["first"]
        for row in OrderLine.objects.filter(order__kind="new")
        .values("order__account_id", "product_id").annotate(first=Min("order__placed_at"))
    }
    follow_ups = OrderLine.objects.exclude(order__kind="new").select_related("order")
    assert follow_ups.exists()
    for line in follow_ups:
        assert first_new[line.order.account_id, line.product_id] < line.order.placed_at


@pytest.mark.django_db
def test_each_subscriptions_periods_continue_where_the_previous_one_ended(demo):
    for subscription in Subscription.objects.prefetch_related("order_lines__order"):
        lines = sorted(subscription.order_lines.all(), key=lambda line: line.service_start)
        periods = [line for line in lines if line.order.kind != "upgrade"]
        assert periods[0].order.kind == "new"
        for previous, following in pairwise(periods):
            assert following.order.kind == "renewal"
            assert following.service_start == previous.service_end
            assert following.order.placed_at > previous.order.placed_at
        for upgrade in (line for line in lines if line.order.kind == "upgrade"):
            assert any(p.service_start < upgrade.service_start < upgrade.service_end
                       == p.service_end for p in periods)
        # and the subscription's current period is one of them, running at NOW
        assert any(p.service_start == subscription.current_period_start
                   and p.service_end == subscription.current_period_end for p in periods)
        assert subscription.current_period_start <= NOW < subscription.current_period_end
        assert subscription.product.code in {"cvm", "backup", "vpn"}
        assert all(line.product_id == subscription.product_id for line in lines)


@pytest.mark.django_db
def test_most_subscriptions_renew_and_the_cancelled_ones_say_when(demo):
    subscriptions = Subscription.objects.all()
    renewing = subscriptions.filter(is_auto_renew=True)
    cancelled = subscriptions.filter(is_auto_renew=False)
    assert renewing.count() > cancelled.count() > 0
    assert not renewing.filter(auto_renew_cancelled_at__isnull=False).exists()
    for subscription in cancelled:
        assert subscription.auto_renew_cancelled_at is not None
        assert subscription.auto_renew_cancelled_at <= NOW
        assert subscription.renews_at is None


@pytest.mark.django_db
def test_some_new_server_orders_are_inside_their_five_day_window_at_now(demo):
    window = OrderLine.objects.filter(
        order__kind="new", product__code="cvm",
        service_start__gt=NOW - timedelta(days=5), service_start__lte=NOW)
    assert window.values("order").distinct().count() >= 15
    in_window = set(window.values_list("order__external_id", flat=True))
    assert demo.five_day_examples and set(demo.five_day_examples) <= in_window


@pytest.mark.django_db
def test_some_first_vpn_orders_are_inside_their_30_day_window_at_now(demo):
    first_vpn_orders = []
    seen = set()
    for order in Order.objects.filter(lines__product__code="vpn").order_by("placed_at"):
        if order.account_id not in seen:
            seen.add(order.account_id)
            first_vpn_orders.append(order)
    recent = [o for o in first_vpn_orders
              if o.kind == "new" and o.placed_at > NOW - timedelta(days=30)]
    assert len(recent) >= 15
    assert demo.money_back_examples
    assert set(demo.money_back_examples) <= {o.external_id for o in recent}


@pytest.mark.django_db
def test_a_few_cards_of_the_months_before_the_money_back_windows_have_expired(demo):
    # Then some first purchases of a VPN plan or a certificate paid by card in those months
    # carry the sandbox gateway's word for an expired card (a refund to one fails), and no
    # order the demo offers to try a refund on does
    expired = Payment.objects.filter(reference__contains="expired_card").select_related("order")
    assert len(expired) >= 3
    for payment in expired:
        assert (payment.method, payment.order.kind) == ("card", "new")
        assert NOW - timedelta(days=150) < payment.order.placed_at < NOW - timedelta(days=31)
        assert payment.order.lines.filter(product__code__in=["vpn", "ssl"]).exists()
    examples = demo.refundable_examples + demo.two_policy_examples
    assert not expired.filter(order__external_id__in=examples).exists()


@pytest.mark.django_db
def test_some_recent_orders_have_lines_under_two_refund_policies(demo):
    # Then a few orders of the last five days mix products of two policies (a domain and
    # its certificate), so the demo shows a quote grouped by policy and one case each
    recent = Order.objects.filter(placed_at__gt=NOW - timedelta(days=5))
    mixed = {order.external_id for order in recent.prefetch_related("lines__product")
             if len({line.product.policy_id for line in order.lines.all()}) > 1}
    assert len(mixed) >= 3
    assert demo.two_policy_examples and set(demo.two_policy_examples) <= mixed


@pytest.mark.django_db
def test_accounts_were_created_before_their_first_order(demo):
    for account in Account.objects.annotate(first=Min("orders__placed_at")):
        assert account.first is not None
        assert account.created_at < account.first


@pytest.mark.django_db
def test_balances_never_go_negative_and_every_balance_payment_is_in_the_ledger(demo):
    running: dict[tuple[int, str], int] = defaultdict(int)
    for entry in BalanceEntry.objects.order_by("created_at", "pk"):
        running[entry.account_id, entry.currency] += entry.amount_minor
        assert running[entry.account_id, entry.currency] >= 0, entry
        assert (entry.amount_minor > 0) == (entry.kind == "top_up")
    for (account_id, currency), total in running.items():
        assert Account.objects.get(pk=account_id).balance(currency).minor == total
    spent = {
        (p.order.account_id, f"payment:{p.order.external_id}/{p.payment_id}"): -p.amount_minor
        for p in Payment.objects.filter(funding=Funding.BALANCE).select_related("order")
    }
    ledger = {(e.account_id, e.reference): e.amount_minor
              for e in BalanceEntry.objects.filter(kind="payment")}
    assert spent and spent == ledger


@pytest.mark.django_db
def test_every_product_has_a_refund_policy_and_both_names(demo):
    products = list(Product.objects.all())
    assert {p.code for p in products} == set(
        OrderLine.objects.values_list("product__code", flat=True))
    for product in products:
        assert product.policy_id
        assert product.name_zh and product.name_en and product.name_zh != product.code
    policies = dict(Product.objects.values_list("category", "policy_id"))
    assert policies == {"cloud_server": "tencent-cloud", "backup": "tencent-cloud",
                        "domain": "huawei-cloud", "ssl_certificate": "alibaba-cloud",
                        "vpn": "vpn-30-day"}


@pytest.mark.django_db
def test_importing_the_generated_orders_again_leaves_every_order_unchanged(demo, generated):
    # when the same orders arrive again as a JSON-lines feed
    report = import_jsonl(json.dumps(facts) for facts in generated)
    # then the importer recognises every one of them
    assert report.errors == []
    assert report.counts[Outcome.UNCHANGED] == len(generated) == demo.orders


@pytest.mark.django_db
def test_loading_the_same_demo_again_changes_nothing(demo):
    before = (Account.objects.count(), Order.objects.count(), Subscription.objects.count(),
              BalanceEntry.objects.count(),
              OrderLine.objects.filter(subscription__isnull=False).count())
    # when the demo is loaded a second time with the same seed and now
    again = load_demo_data(seed=SEED, now=NOW)
    # then nothing was added and the summary is the same
    after = (Account.objects.count(), Order.objects.count(), Subscription.objects.count(),
             BalanceEntry.objects.count(),
             OrderLine.objects.filter(subscription__isnull=False).count())
    assert after == before
    assert again == demo
