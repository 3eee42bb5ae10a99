"""Finance's payout pages: the payouts with their filters, one payout with its history, and
what finance does with a payout a gateway refused (retry, redirect to the balance, record
as paid outside), each after a confirmation page.

The views decide who sees which page; the payout actions check the role again and decide
what may change (payouts/actions.py). The settlement files have their own module
(settlements.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import OperationalError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import CaseEvent
from refunddesk.cases.states import InvalidTransition
from refunddesk.console.access import console_view
from refunddesk.console.case_payouts import gateway_label
from refunddesk.core.money import format_money
from refunddesk.payouts import actions, permissions
from refunddesk.payouts.actions import PayoutError
from refunddesk.payouts.models import (
    Destination,
    FallbackReason,
    Payout,
    PayoutState,
    needs_attention,
)
from refunddesk.payouts.reconcile import known_gateways

logger = logging.getLogger(__name__)

PAGE_SIZE = 50

viewer = console_view(check=permissions.can_view,
                      message=gettext_lazy("Payouts are looked after by finance."))
manager = console_view(check=permissions.can_manage,
                       message=gettext_lazy("Only finance can retry, redirect or record "
                                            "payouts."))

REPLACING_ACTIONS = ("retry", "redirect_to_balance", "record_paid_outside")


def gateway_choices() -> list[tuple[str, str]]:
    return [(name, gateway_label(name)) for name in known_gateways()]


def state_label(state: str) -> str:
    return str(PayoutState(state).label) if state in PayoutState.values else state


def destination_label(destination: str) -> str:
    return (str(Destination(destination).label) if destination in Destination.values
            else destination)




def attention_reason(payout: Payout, *, is_replaced: bool, now: datetime) -> str:
    if payout.state == PayoutState.FAILED:
        return "" if is_replaced else _("Refused: retry, redirect or record it")
    if payout.state == PayoutState.REQUIRES_ACTION:
        return _("The provider needs an action")
    if payout.state == PayoutState.UNKNOWN:
        return _("Outcome unknown: being asked again")
    if (payout.state in (PayoutState.PENDING, PayoutState.SUBMITTED)
            and payout.expected_at is not None and payout.expected_at < now):
        return _("Late: should have arrived")
    return ""


@dataclass
class Row:
    payout: Payout
    state: str
    amount: str
    destination: str
    gateway: str
    attention: str
    replacement_id: int | None


def present(payout: Payout, now: datetime) -> Row:
    replacement_id = getattr(payout, "replacement_id", None)
    return Row(payout=payout, state=state_label(payout.state),
               amount=format_money(payout.amount_minor, payout.currency),
               destination=destination_label(payout.destination),
               gateway=gateway_label(payout.gateway),
               attention=attention_reason(payout, is_replaced=replacement_id is not None,
                                          now=now),
               replacement_id=replacement_id)


# -- the list -------------------------------------------------------------------------------

class PayoutFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    gateway = forms.ChoiceField(label=gettext_lazy("Gateway"), required=False)
    attention = forms.BooleanField(label=gettext_lazy("Needs attention only"), required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        state, gateway = self.fields["state"], self.fields["gateway"]
        # Each declared so above.
        assert isinstance(state, forms.ChoiceField)
        assert isinstance(gateway, forms.ChoiceField)
        state.choices = [("", _("Any state")), *PayoutState.choices]
        gateway.choices = [("", _("Any gateway")), *gateway_choices()]

    def query(self, **changes: Any) -> str:
        data = {name: self.cleaned_data.get(name) for name in ("state", "gateway")}
        data["attention"] = "1" if self.cleaned_data.get("attention") else ""
        data.update(changes)
        return urlencode({name: value for name, value in data.items() if value})


def filtered(form: PayoutFilterForm, now: datetime) -> QuerySet[Payout]:
    data = form.cleaned_data
    payouts = Payout.objects.select_related("case").annotate(
        replacement_id=Subquery(Payout.objects.filter(replaces=OuterRef("pk"))
                                .values("pk")[:1]))
    if data["state"]:
        payouts = payouts.filter(state=data["state"])
    if data["gateway"]:
        payouts = payouts.filter(gateway=data["gateway"])
    if data["attention"]:
        payouts = payouts.filter(needs_attention(now))
    return payouts


def keyset_page(payouts: QuerySet[Payout], *, after: int | None, before: int | None
                ) -> tuple[list[Payout], int | None, int | None]:
    """Newest first, by id: (rows, id to show the next page after, id to show the previous
    page before). A previous page that would come out short is the first page."""
    if before is not None and after is None:
        rows = list(payouts.filter(pk__gt=before).order_by("pk")[:PAGE_SIZE + 1])
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE][::-1]
            return rows, rows[-1].pk, rows[0].pk
        after = None
    if after is not None:
        payouts = payouts.filter(pk__lt=after)
    rows = list(payouts.order_by("-pk")[:PAGE_SIZE + 1])
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    previous_before = rows[0].pk if after is not None and rows else None
    return rows, next_after, previous_before


@viewer
@require_safe
def payout_list(request: HttpRequest) -> HttpResponse:
    form = PayoutFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "rows": [], "is_filtered": False}
    if not form.is_valid():
        return render(request, "console/payouts/list.html", context, status=400)
    now = timezone.now()
    data = form.cleaned_data
    rows, next_after, previous_before = keyset_page(
        filtered(form, now), after=data["after"], before=data["before"])
    base = reverse("console:payouts")
    context.update(
        rows=[present(payout, now) for payout in rows],
        is_filtered=bool(data["state"] or data["gateway"] or data["attention"]),
        is_first=data["after"] is None and previous_before is None,
        first_url=f"{base}?{form.query()}",
        next_url=f"{base}?{form.query(after=next_after)}" if next_after else "",
        previous_url=(f"{base}?{form.query(before=previous_before)}"
                      if previous_before else ""),
        attention_url=f"{base}?attention=1",
        attention_count=Payout.objects.filter(needs_attention(now)).count())
    return render(request, "console/payouts/list.html", context)


# -- one payout -----------------------------------------------------------------------------

def _payout_or_404(payout_id: int) -> Payout:
    return get_object_or_404(Payout.objects.select_related("case", "payment", "replaces"),
                             pk=payout_id)


def history(payout: Payout) -> list[Payout]:
    """The payouts of one amount, oldest first: what the failed ones were replaced by."""
    chain = [payout]
    while chain[0].replaces_id is not None:
        chain.insert(0, Payout.objects.get(pk=chain[0].replaces_id))
    while (after := Payout.objects.filter(replaces=chain[-1]).first()) is not None:
        chain.append(after)
    return chain


def _fallback_label(reason: str) -> str:
    return (str(FallbackReason(reason).label) if reason in FallbackReason.values
            else reason)


def payout_context(request: HttpRequest, payout: Payout) -> dict[str, Any]:
    now = timezone.now()
    chain = history(payout)
    replacement = chain[chain.index(payout) + 1] if payout is not chain[-1] else None
    # The finance actions that made each replacement: who, when, with what reference.
    made_by = {event.data.get("payout"): event for event in
               CaseEvent.objects.filter(case_id=payout.case_id, action__in=REPLACING_ACTIONS)
               .select_related("actor")}
    actionable = payout.state == PayoutState.FAILED and replacement is None
    return {
        "payout": payout, "row": present(payout, now),
        "attention": attention_reason(payout, is_replaced=replacement is not None, now=now),
        "fallback": _fallback_label(payout.fallback_reason),
        "chain": [{"payout": item, "row": present(item, now),
                   "event": made_by.get(str(item.pk)), "is_current": item.pk == payout.pk}
                  for item in chain],
        "replacement": replacement,
        "settlement_lines": payout.settlement_lines.select_related("settlement")
                                  .order_by("-settlement__imported_at")[:20],
        "can_manage": permissions.can_manage(request.user),
        "is_actionable": actionable,
    }


@viewer
@require_safe
def payout_detail(request: HttpRequest, payout_id: int) -> HttpResponse:
    payout = _payout_or_404(payout_id)
    return render(request, "console/payouts/detail.html", payout_context(request, payout))


# -- finance's actions ----------------------------------------------------------------------

class ConfirmForm(forms.Form):
    """Retry and redirect ask nothing more than the confirmation itself."""


class PaidOutsideForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference of the payment"), max_length=128,
        help_text=gettext_lazy("The bank transfer number or receipt number of the payment "
                               "made outside RefundDesk."))


@dataclass(frozen=True)
class Action:
    key: str
    title: Any
    explanation: Any
    button: Any
    form: type[forms.Form]
    act: Callable[[Payout, Any, dict[str, Any]], Payout]
    done: Any  # message on success, with %(old)s, %(new)s, %(reference)s


ACTIONS: dict[str, Action] = {
    "retry": Action(
        "retry", gettext_lazy("Retry the payout"),
        gettext_lazy("The same amount is sent again by the same route, as a new payout. The "
                     "refused payout stays in the history as it was."),
        gettext_lazy("Retry the payout"), ConfirmForm,
        lambda payout, user, data: actions.retry_payout(payout, actor=user),
        gettext_lazy("Payout %(old)s is sent again as payout %(new)s.")),
    "redirect": Action(
        "redirect", gettext_lazy("Redirect to the account balance"),
        gettext_lazy("The amount is credited to the customer's account balance instead of "
                     "the original payment route, as a new payout."),
        gettext_lazy("Credit the account balance"), ConfirmForm,
        lambda payout, user, data: actions.redirect_to_balance(payout, actor=user),
        gettext_lazy("Payout %(old)s goes to the account balance instead, as payout "
                     "%(new)s.")),
    "paid_outside": Action(
        "paid_outside", gettext_lazy("Record as paid outside RefundDesk"),
        gettext_lazy("Record that the amount was paid another way (a bank transfer, cash). "
                     "It counts as paid at once; RefundDesk sends nothing."),
        gettext_lazy("Record as paid"), PaidOutsideForm,
        lambda payout, user, data: actions.record_paid_outside(
            payout, actor=user, reference=data["reference"]),
        gettext_lazy("Payout %(old)s is recorded as paid outside RefundDesk (reference "
                     "%(reference)s), as payout %(new)s.")),
}


def _confirm_page(request: HttpRequest, payout: Payout, action: Action, form: forms.Form,
                  status: int = 200) -> HttpResponse:
    return render(request, "console/payouts/confirm.html", {
        **payout_context(request, payout), "action": action, "form": form}, status=status)


def _act(request: HttpRequest, payout_id: int, key: str) -> HttpResponse:
    action = ACTIONS[key]
    payout = _payout_or_404(payout_id)
    if request.method != "POST":
        return _confirm_page(request, payout, action, action.form())
    form = action.form(request.POST)
    if not form.is_valid():
        return _confirm_page(request, payout, action, form, status=400)
    try:
        new = action.act(payout, request.user, form.cleaned_data)
    except NotPermitted as refused:
        status, error = 403, str(refused.message)
    except (PayoutError, InvalidTransition) as refused:
        status, error = 409, str(refused.message)
    except OperationalError:
        # A lock wait that timed out: the worker or a colleague had the payout at that
        # moment. The action's transaction has been rolled back.
        logger.warning("payout %s: %s refused by the database", payout.pk, key,
                       exc_info=True)
        status, error = 409, _("Someone else was changing this payout at the same moment. "
                               "Nothing was changed: read the payout again and retry.")
    else:
        messages.success(request, action.done % {
            "old": payout.pk, "new": new.pk, "reference": new.gateway_refund_id})
        return redirect("console:payout", payout_id=new.pk)
    payout.refresh_from_db()
    form.add_error(None, error)
    return _confirm_page(request, payout, action, form, status=status)


def _view(key: str) -> Callable[..., HttpResponseBase]:
    @manager
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest, payout_id: int) -> HttpResponse:
        return _act(request, payout_id, key)

    view.__name__ = view.__qualname__ = f"payout_{key}"
    return view


retry = _view("retry")
redirect_to_balance = _view("redirect")
paid_outside = _view("paid_outside")


urls = [
    path("payouts/", payout_list, name="payouts"),
    path("payouts/<int:payout_id>/", payout_detail, name="payout"),
    path("payouts/<int:payout_id>/retry", retry, name="payout_retry"),
    path("payouts/<int:payout_id>/redirect-to-balance", redirect_to_balance,
         name="payout_redirect"),
    path("payouts/<int:payout_id>/paid-outside", paid_outside, name="payout_paid_outside"),
]
