"""My account: orders with their lines, payments and refund status; subscriptions, and
cancelling auto-renewal."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from refunddesk.applying.lines import OrderRow, line_rows
from refunddesk.billing import actions as billing_actions
from refunddesk.billing.models import Order
from refunddesk.portal.forms import ConfirmForm
from refunddesk.portal.permissions import (
    customer_account,
    customer_required,
    subscription_for_customer,
)

ORDERS_PER_PAGE = 10
ENDED_SHOWN_FOR = timedelta(days=90)


@require_safe
@customer_required
def account(request: HttpRequest) -> HttpResponse:
    account = customer_account(request.user)
    orders = (Order.objects.filter(account=account).order_by("-placed_at", "-pk")
              .prefetch_related("lines__product", "payments"))
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    lines = [line for order in page for line in order.lines.all()]
    rows_by_line = {row.line.pk: row for row in line_rows(lines, request.LANGUAGE_CODE)}
    order_rows = [OrderRow(order, [rows_by_line[line.pk] for line in order.lines.all()])
                  for order in page]
    now = timezone.now()
    # A subscription a refund ended stays listed a while, so the customer sees it stopped.
    subscriptions = (account.subscriptions
                     .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=now - ENDED_SHOWN_FOR))
                     .select_related("product").order_by("ended_at", "current_period_end"))
    return render(request, "portal/account.html", {
        "account": account, "page": page, "orders": order_rows,
        "subscriptions": subscriptions, "now": now,
    })


@require_http_methods(["GET", "POST"])
@customer_required
def cancel_auto_renewal(request: HttpRequest, subscription_id: str) -> HttpResponse:
    subscription = subscription_for_customer(request.user, subscription_id)
    if request.method == "POST":
        form = ConfirmForm(request.POST)
        if form.is_valid():
            was_on = subscription.is_auto_renew
            billing_actions.cancel_auto_renewal(subscription, actor=request.user)
            if was_on:
                messages.success(request, _("Auto-renewal is off. %(product)s ends on "
                                            "%(date)s and will not be charged again.") % {
                    "product": subscription.product.name_for(request.LANGUAGE_CODE),
                    "date": date_format(localtime(subscription.current_period_end), "Y-m-d")})
            else:
                messages.info(request, _("Auto-renewal was already off."))
            return redirect("portal:account")
    else:
        form = ConfirmForm()
    return render(request, "portal/cancel_auto_renewal.html", {
        "subscription": subscription, "form": form,
        "product_name": subscription.product.name_for(request.LANGUAGE_CODE),
    })
