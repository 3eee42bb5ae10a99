"""Where the money goes: refunded per currency and route, approved per product and policy
rule, and the payouts that failed. Never added across currencies."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Product
from refunddesk.cases.models import CaseLine
from refunddesk.payouts.models import Destination, Payout, PayoutState
from refunddesk.policy.money import Money
from refunddesk.reports.filters import case_condition
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table, chart_number, money_cell

# currency, what it was counted by (a route, a product, a rule), how many, the amount
AmountRow = tuple[str, str, int, Money | None]

ORIGINAL_ROUTE = _("Original payment method · %(gateway)s")


def route_label(destination: str, gateway: str) -> str:
    if destination == Destination.ORIGINAL:
        return str(ORIGINAL_ROUTE) % {"gateway": gateway}
    return str(Destination(destination).label) if destination in Destination.values else destination


def money(context: Context) -> list[Section]:
    filters = context.filters
    since, until = filters.bounds()
    paid = Payout.objects.filter(case_condition(filters, "case__"), state=PayoutState.SUCCEEDED,
                                 settled_at__gte=since, settled_at__lt=until)
    # Not "amount": that is a property of Payout, which the annotation would shadow.
    routes = (paid.values_list("currency", "destination", "gateway")
              .annotate(n=Count("pk"), amount_sum=Sum("amount_minor"))
              .order_by("currency", "-amount_sum"))
    route_rows: list[AmountRow] = []
    totals: dict[str, list[int]] = {}
    for currency, destination, gateway, n, minor in routes:
        route_rows.append((currency, route_label(destination, gateway), n,
                           money_cell(minor, currency)))
        figures = totals.setdefault(currency, [0, 0])
        figures[0] += n
        figures[1] += int(minor)
    total_rows = [(currency, n, money_cell(minor, currency))
                  for currency, (n, minor) in sorted(totals.items())]
    refunded = Table("refunded", _("Refunded per currency"), [
        Column("currency", _("Currency")), Column("payouts", _("Payouts"), Kind.COUNT),
        Column("amount", _("Amount"), Kind.AMOUNT)], total_rows,
        note=_("Payouts that arrived in the range."))
    by_route = Table("refunded_by_route", _("Refunded per route"), [
        Column("currency", _("Currency")), Column("route", _("Route")),
        Column("payouts", _("Payouts"), Kind.COUNT), Column("amount", _("Amount"), Kind.AMOUNT)],
        route_rows, note=_("Payouts that arrived in the range, by where the money went."))
    return [Section(refunded), Section(by_route, _currency_chart(route_rows, filters.currency)),
            *approved_by(context), failed(context)]


def _currency_chart(rows: list[AmountRow], chosen: str) -> Chart:
    """Amounts of one currency (the chosen one, else the one with the most rows): a chart
    never puts two currencies on one axis."""
    counted: dict[str, int] = {}
    for row in rows:
        counted[row[0]] = counted.get(row[0], 0) + 1
    currency = chosen or (max(counted, key=lambda code: counted[code]) if counted else "")
    mine = [row for row in rows if row[0] == currency]
    return Chart("hbar", [row[1] for row in mine],
                 [{"name": currency, "data": [chart_number(row[-1], Kind.AMOUNT) for row in mine]}],
                 unit="amount", currency=currency, empty=_("No money refunded in this range."))


def approved_by(context: Context) -> list[Section]:
    filters = context.filters
    since, until = filters.bounds()
    # One pass over the approved lines, counted per currency, product and rule together,
    # then folded into the two tables (one join of the lines to their cases, not two).
    counted = (CaseLine.objects.filter(case_condition(filters, "case__"),
                                       case__decided_at__gte=since, case__decided_at__lt=until,
                                       approved_minor__gt=0)
               .values_list("case__currency", "order_line__product", "rule")
               .annotate(n=Count("*"), amount=Sum("approved_minor")).order_by())
    per_product: dict[tuple[str, int], list[int]] = {}
    per_rule: dict[tuple[str, str], list[int]] = {}
    for currency, product_id, rule, n, amount in counted:
        for key, into in (((currency, product_id), per_product), ((currency, rule), per_rule)):
            figures = into.setdefault(key, [0, 0])
            figures[0] += n
            figures[1] += amount
    name = "name_zh" if context.is_chinese else "name_en"
    names = dict(Product.objects.filter(pk__in={product for _c, product in per_product})
                 .values_list("pk", name))
    product_rows = _largest_first(
        (currency, names.get(product, str(product)), n, amount)
        for (currency, product), (n, amount) in per_product.items())
    rule_rows = _largest_first((currency, rule or "—", n, amount)
                               for (currency, rule), (n, amount) in per_rule.items())
    note = _("Approved refunds decided in the range, by order line.")
    by_product = Table("approved_by_product", _("Approved per product"), [
        Column("currency", _("Currency")), Column("product", _("Product")),
        Column("lines", _("Lines"), Kind.COUNT), Column("amount", _("Approved"), Kind.AMOUNT)],
        product_rows, note=note)
    by_rule = Table("approved_by_rule", _("Approved per policy rule"), [
        Column("currency", _("Currency")), Column("rule", _("Rule")),
        Column("lines", _("Lines"), Kind.COUNT), Column("amount", _("Approved"), Kind.AMOUNT)],
        rule_rows, note=note)
    return [Section(by_product, _currency_chart(product_rows, filters.currency)),
            Section(by_rule, _currency_chart(rule_rows, filters.currency))]


def _largest_first(rows: Iterable[tuple[str, str, int, int]]) -> list[AmountRow]:
    """Per currency (in code order), the largest amount first."""
    ordered = sorted(rows, key=lambda row: (row[0], -row[3], row[1]))
    return [(currency, label, n, money_cell(amount, currency))
            for currency, label, n, amount in ordered]


def failed(context: Context) -> Section:
    filters = context.filters
    since, until = filters.bounds()
    failures = (Payout.objects.filter(case_condition(filters, "case__"), state=PayoutState.FAILED,
                                      updated_at__gte=since, updated_at__lt=until)
                .values_list("gateway", "last_error_code", "currency")
                .annotate(n=Count("pk"), amount_sum=Sum("amount_minor"))
                .order_by("-n", "gateway"))
    rows = [(gateway, code or "—", n, money_cell(minor, currency))
            for gateway, code, currency, n, minor in failures]
    table = Table("failed_payouts", _("Failed payouts and why"), [
        Column("gateway", _("Gateway")), Column("error", _("Error code")),
        Column("payouts", _("Payouts"), Kind.COUNT), Column("amount", _("Amount"), Kind.AMOUNT)],
        rows, note=_("Payouts that failed in the range, replaced since or not."))
    return Section(table)
