"""Billing records as the merchant's billing system knows them.

Money is integer minor units. An order has one currency and its lines and payments have no
currency column of their own: they are in the order's currency by construction, so a
payment in another currency cannot be stored at all (stronger than a cross-table check,
which neither SQLite nor PostgreSQL can declare). Balance entries carry their own currency,
because an account may hold balances in several.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.validators import validate_currency
from refunddesk.policy.money import Money


def currency_is_well_formed(field: str) -> Q:
    # Three upper-case letters; whether Babel knows the code is checked by the validator.
    return Q(Exact(Length(field), 3)) & Q(Exact(Upper(field), F(field)))


class Account(models.Model):
    external_id = models.CharField(_("account id"), max_length=64, unique=True)
    email = models.EmailField(_("e-mail"), db_index=True)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("account created"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="billing_account",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    def balance(self, currency: str) -> Money:
        """The stored balance: the sum of the ledger, never a field edited in place."""
        total = self.balance_entries.filter(currency=currency).aggregate(total=Sum("amount_minor"))
        return Money(total["total"] or 0, currency)


class Category(models.TextChoices):
    CLOUD_SERVER = "cloud_server", _("Cloud server")
    BACKUP = "backup", _("Backup")
    DOMAIN = "domain", _("Domain name")
    SSL_CERTIFICATE = "ssl_certificate", _("SSL certificate")
    VPN = "vpn", _("VPN")
    SAAS = "saas", _("Software subscription")
    OTHER = "other", _("Other")


class Product(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    # The refund policy by id ("tencent-cloud"); the policy files themselves live with the
    # policy engine, which resolves the id to its current version.
    policy_id = models.SlugField(_("refund policy"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.code})"

    def name_for(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class OrderKind(models.TextChoices):
    NEW = "new", _("New purchase")
    RENEWAL = "renewal", _("Renewal")
    UPGRADE = "upgrade", _("Upgrade")


class SalesChannel(models.TextChoices):
    DIRECT = "direct", _("Direct")
    APP_STORE = "app_store", _("App Store")
    GOOGLE_PLAY = "google_play", _("Google Play")
    RESELLER = "reseller", _("Reseller")


class Order(models.Model):
    external_id = models.CharField(_("order id"), max_length=64, unique=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OrderKind.choices)
    channel = models.CharField(_("sales channel"), max_length=16, choices=SalesChannel.choices)
    placed_at = models.DateTimeField(_("placed"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    is_invoiced = models.BooleanField(_("invoiced"), default=False)
    # Digest of the imported order-facts object: re-importing an unchanged order is a no-op.
    source_digest = models.CharField(max_length=64, blank=True, editable=False)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "external_id"]
        indexes = [models.Index(fields=["account", "placed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=currency_is_well_formed("currency"),
                name="order_currency_is_iso_4217_shaped",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)


class BillingMode(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    PAYG = "payg", _("Pay as you go")
    ONE_TIME = "one_time", _("One-time")


class TermUnit(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    line_id = models.CharField(_("line id"), max_length=64)
    position = models.PositiveIntegerField(_("position"), default=0)
    sku = models.CharField(_("SKU"), max_length=100)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    billing = models.CharField(_("billing"), max_length=16, choices=BillingMode.choices)
    term_unit = models.CharField(_("term unit"), max_length=8, choices=TermUnit.choices, blank=True)
    term_count = models.PositiveIntegerField(_("term length"), null=True, blank=True)
    service_start = models.DateTimeField(_("service start"), null=True, blank=True)
    service_end = models.DateTimeField(_("service end"), null=True, blank=True)
    list_price_minor = models.BigIntegerField(_("list price"))
    amount_paid_minor = models.BigIntegerField(_("amount paid"))
    flags = models.JSONField(_("flags"), default=list, blank=True)
    subscription = models.ForeignKey(
        "Subscription",
        verbose_name=_("subscription"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_lines",
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_id"], name="order_line_id_unique"),
            models.CheckConstraint(
                condition=Q(list_price_minor__gte=0), name="order_line_list_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid_minor__gte=0), name="order_line_amount_paid_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(service_start__isnull=True)
                | Q(service_end__isnull=True)
                | Q(service_end__gt=F("service_start")),
                name="order_line_service_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=(Q(term_unit="") & Q(term_count__isnull=True))
                # Spelled out: a NULL count makes "count > 0" unknown, which CHECK lets pass.
                | (~Q(term_unit="") & Q(term_count__isnull=False) & Q(term_count__gt=0)),
                name="order_line_term_has_unit_and_count",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.external_id}/{self.line_id} {self.sku}"

    @property
    def list_price(self) -> Money:
        return self.order.money(self.list_price_minor)

    @property
    def amount_paid(self) -> Money:
        return self.order.money(self.amount_paid_minor)


class PaymentMethod(models.TextChoices):
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    BALANCE = "balance", _("Account balance")
    VOUCHER = "voucher", _("Voucher")
    GIFT = "gift", _("Gift credit")
    APP_STORE = "app_store", _("App Store")
    GOOGLE_PLAY = "google_play", _("Google Play")


class Funding(models.TextChoices):
    CASH = "cash", _("Cash")
    BALANCE = "balance", _("Balance")
    GIFT = "gift", _("Gift credit")
    VOUCHER = "voucher", _("Voucher")


class Payment(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="payments"
    )
    payment_id = models.CharField(_("payment id"), max_length=64)
    position = models.PositiveIntegerField(_("position"), default=0)
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    funding = models.CharField(_("funding"), max_length=8, choices=Funding.choices)
    amount_minor = models.BigIntegerField(_("amount"))
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    gateway = models.CharField(_("gateway"), max_length=32, blank=True)
    reference = models.CharField(_("gateway reference"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["order_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "payment_id"], name="payment_id_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order.external_id}/{self.payment_id} {self.method}"

    @property
    def amount(self) -> Money:
        return self.order.money(self.amount_minor)


class Usage(models.Model):
    """Metered consumption of a line over a period (for usage-priced refund rules)."""

    line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.CASCADE, related_name="usage"
    )
    metric = models.SlugField(_("metric"), max_length=64)
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=32)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ["line_id", "period_start", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "metric", "period_start"], name="usage_once_per_metric_and_period"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="usage_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="usage_period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.quantity} {self.unit}"


class Subscription(models.Model):
    external_id = models.CharField(_("subscription id"), max_length=64, unique=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    sku = models.CharField(_("SKU"), max_length=100)
    term_unit = models.CharField(_("period unit"), max_length=8, choices=TermUnit.choices)
    term_count = models.PositiveIntegerField(_("period length"))
    current_period_start = models.DateTimeField(_("current period start"))
    current_period_end = models.DateTimeField(_("current period end"))
    is_auto_renew = models.BooleanField(_("auto-renew"), default=True)
    auto_renew_cancelled_at = models.DateTimeField(
        _("auto-renew cancelled"), null=True, blank=True
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["account_id", "current_period_end"]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_period_end__gt=F("current_period_start")),
                name="subscription_period_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(term_count__gt=0), name="subscription_period_length_positive"
            ),
            models.CheckConstraint(
                condition=~(Q(is_auto_renew=True) & Q(auto_renew_cancelled_at__isnull=False)),
                name="subscription_cancelled_renewal_is_off",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.sku}"

    @property
    def renews_at(self) -> datetime | None:
        """When the next period would be charged, or None when it will not renew."""
        if self.is_auto_renew and self.ended_at is None:
            return self.current_period_end
        return None

    @property
    def ends_at(self) -> datetime | None:
        """When the service stops: the end a refund recorded, else the end of the current
        period once renewal is off; None while it renews."""
        if self.ended_at is not None:
            return self.ended_at
        return None if self.is_auto_renew else self.current_period_end


class BalanceEntryKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment")


class CreditFund(models.TextChoices):
    BALANCE = "balance", _("Account balance")
    GIFT = "gift", _("Gift credit")
    VOUCHER = "voucher", _("Voucher credit")


class BalanceEntry(models.Model):
    """One movement of an account's stored balance: credits positive, debits negative.

    Append-only. `reference` names what caused the movement (a payment, later a payout);
    it is unique per account so that crediting the same thing twice is refused by the
    database rather than caught by a check that could race.
    """

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="balance_entries",
    )
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    amount_minor = models.BigIntegerField(_("amount"))
    kind = models.CharField(_("kind"), max_length=16, choices=BalanceEntryKind.choices)
    # Which fund of the account moves: spendable balance, gift credit or voucher credit.
    # Gift and voucher credit are never cash, so they are kept apart from the balance.
    fund = models.CharField(_("fund"), max_length=8, choices=CreditFund.choices,
                            default="balance")
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("balance entry")
        verbose_name_plural = _("balance entries")
        ordering = ["account_id", "created_at", "id"]
        indexes = [models.Index(fields=["account", "currency"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="balance_entry_not_zero"),
            models.CheckConstraint(
                condition=currency_is_well_formed("currency"),
                name="balance_entry_currency_is_iso_4217_shaped",
            ),
            models.UniqueConstraint(
                fields=["account", "reference"],
                condition=~Q(reference=""),
                name="balance_entry_reference_once_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.external_id} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)
