"""Who may see what in the portal: the one place that decides it.

A customer is a user linked to a billing Account, and sees only that account's orders,
subscriptions and refund cases. Anything of another account is answered with 404, exactly
as if it did not exist, so the portal never confirms that someone else's order or case
number is real. Every portal view goes through these functions; templates only display.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, Order, Subscription
from refunddesk.cases.models import Document, RefundCase
from refunddesk.cases.tracking import NotATrackingNumber, normalise

# Whoever sent a request: request.user.
User = AuthUser | AnonymousUser

NOT_A_CUSTOMER = _("This page is for customers. Your login is not linked to a customer "
                   "account.")


def customer_account(user: User) -> Account:
    """The billing account of a customer login, or PermissionDenied."""
    if not user.is_authenticated:
        raise PermissionDenied(NOT_A_CUSTOMER)
    try:
        return Account.objects.get(user=user)
    except Account.DoesNotExist:
        raise PermissionDenied(NOT_A_CUSTOMER) from None


def customer(request: HttpRequest) -> AuthUser:
    """The customer's login behind a request that `customer_required` let through."""
    user = request.user
    if not user.is_authenticated:  # only a view without customer_required gets here
        raise PermissionDenied(NOT_A_CUSTOMER)
    return user


def case_for_customer(user: User, tracking_number: str) -> RefundCase:
    """The customer's own case with this tracking number, or Http404."""
    account = customer_account(user)
    try:
        number = normalise(tracking_number)
    except NotATrackingNumber:
        raise Http404("no such case") from None
    return get_object_or_404(
        RefundCase.objects.select_related("account", "order", "reason_category"),
        tracking_number=number, account=account)


def order_for_customer(user: User, external_id: str) -> Order:
    """The customer's own order, or Http404."""
    account = customer_account(user)
    return get_object_or_404(Order.objects.select_related("account"),
                             external_id=external_id, account=account)


def subscription_for_customer(user: User, external_id: str) -> Subscription:
    """The customer's own subscription, or Http404."""
    account = customer_account(user)
    return get_object_or_404(Subscription.objects.select_related("product"),
                             external_id=external_id, account=account)


def document_for_viewer(user: User, tracking_number: str, document_id: int) -> Document:
    """A case's document for its customer, or for staff (the console will narrow staff down
    by role); Http404 for everyone else, PermissionDenied for a stranger."""
    if not user.is_authenticated:
        raise PermissionDenied(NOT_A_CUSTOMER)
    if getattr(user, "is_staff", False):
        try:
            number = normalise(tracking_number)
        except NotATrackingNumber:
            raise Http404("no such case") from None
        case = RefundCase.objects.filter(tracking_number=number).first()
        if case is None:
            raise Http404("no such case")
    else:
        case = case_for_customer(user, tracking_number)
    try:
        return case.documents.get(pk=document_id)
    except Document.DoesNotExist:
        raise Http404("no such document") from None


View = Callable[..., HttpResponse]


def customer_required(view: View) -> View:
    """Log in first; then only customers get through. Anyone else signed in (a staff
    member without a customer account) gets a page saying what the portal is for."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            customer_account(request.user)
        except PermissionDenied:
            return render(request, "portal/not_a_customer.html",
                          {"message": NOT_A_CUSTOMER}, status=403)
        return view(request, *args, **kwargs)

    return login_required(checked)
