"""The queue's filters as a GET form: what an agent can narrow the queue to, checked, and
turned into `queueing.Filters`. A bad value is a form error, never a crash."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.billing.models import Product
from refunddesk.cases import permissions
from refunddesk.cases.models import ApprovalLimit, Channel
from refunddesk.cases.states import State, staff_state_label
from refunddesk.console import queueing
from refunddesk.console.queueing import Cursor, Filters, InvalidCursor
from refunddesk.policy.money import MoneyError, is_known_currency, minor_digits, parse_amount

# Offered in the currency select besides those the approval limits name.
USUAL_CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")

SORT_CHOICES = [
    ("due", _("SLA due first, then oldest")),
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("amount_high", _("Largest amount first")),
    ("amount_low", _("Smallest amount first")),
]

SLA_CHOICES = [
    ("", _("Any")),
    (queueing.OVERDUE, _("Overdue")),
    (queueing.DUE_TODAY, _("Due today")),
    (queueing.PAUSED, _("Clock paused")),
]

RULE_SHAPE = re.compile(r"^[A-Za-z0-9_.:-]+$")

# The parameters that only move between pages (a cursor, and the place of the page's
# first row for "51–100 of …"); every other one is a filter.
CURSOR_PARAMETERS = ("after", "before")
PAGE_PARAMETERS = (*CURSOR_PARAMETERS, "start")
MAX_START = 10**9


state_label = staff_state_label


def state_choices() -> list[tuple[str, Any]]:
    return [(value, state_label(value)) for value in State.values]


def currency_choices(extra: str = "") -> list[tuple[str, StrOrPromise]]:
    codes = set(USUAL_CURRENCIES)
    codes.update(ApprovalLimit.objects.values_list("currency", flat=True).distinct())
    if extra and is_known_currency(extra):
        codes.add(extra)
    return [("", _("Any currency")), *((code, code) for code in sorted(codes))]


def assignee_choices(staff: list[Any]) -> list[tuple[str, Any]]:
    return [("", _("Anyone")), (queueing.ME, _("Me (my cases)")),
            (queueing.UNASSIGNED, _("Unassigned")),
            *((str(user.pk), user.get_username()) for user in staff)]


def with_default_states(query: QueryDict) -> QueryDict:
    """The queue's address without states shows the open cases. The filter form always
    sends `filtered`, so unticking every state there means every state."""
    data = query.copy()
    if "state" not in data and not data.get("filtered"):
        data.setlist("state", list(queueing.OPEN_STATES))
    return data


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        help_text=_("Tracking number, order id, or part of a customer's "
                                    "name, e-mail or phone"))
    state = forms.MultipleChoiceField(
        label=_("State"), required=False, choices=state_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("%(value)s is not a state of a refund case.")})
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any channel")), *Channel.choices])
    sla = forms.ChoiceField(label=_("SLA"), required=False, choices=SLA_CHOICES)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, error_messages={
        "invalid_choice": _("There is no staff member %(value)s who works cases.")})
    currency = forms.ChoiceField(label=_("Currency"), required=False, error_messages={
        "invalid_choice": _("%(value)s is not a currency the queue knows.")})
    amount_min = forms.CharField(label=_("Amount from"), required=False, max_length=30)
    amount_max = forms.CharField(label=_("Amount up to"), required=False, max_length=30)
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.order_by("code"),
        to_field_name="code", empty_label=_("Any product"),
        error_messages={"invalid_choice": _("There is no product with this code.")})
    rule = forms.CharField(label=_("Policy rule"), required=False, max_length=64)
    escalated = forms.BooleanField(label=_("Escalated"), required=False)
    second_approval = forms.BooleanField(label=_("Waiting for second approval"),
                                         required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)
    filtered = forms.BooleanField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    start = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict, **kwargs: Any):
        super().__init__(with_default_states(data), **kwargs)
        # Who works cases: the assignee filter's choices, and the rows' assign menus.
        self.staff = list(permissions.assignable_staff())
        assignee, currency = self.fields["assignee"], self.fields["currency"]
        # Each declared so above.
        assert isinstance(assignee, forms.ChoiceField)
        assert isinstance(currency, forms.ChoiceField)
        assignee.choices = assignee_choices(self.staff)
        currency.choices = currency_choices(self.data.get("currency", ""))

    def clean_rule(self) -> str:
        rule: str = self.cleaned_data["rule"].strip()
        if rule and not RULE_SHAPE.match(rule):
            raise forms.ValidationError(_("A rule id is letters, digits and _ - . : only, "
                                          "like five_day_no_reason."))
        return rule

    def clean_start(self) -> int:
        # Only the "51–100" above the rows reads it: a doctored value is not worth an
        # error, the count simply starts at 1 again.
        text = self.cleaned_data["start"].strip()
        if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_START)):
            return min(max(int(text), 1), MAX_START)
        return 1

    def clean_sort(self) -> str:
        sort: str = self.cleaned_data["sort"] or queueing.DEFAULT_SORT
        return sort

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self._clean_amounts(data)
        self._clean_cursor(data)
        return data

    def _clean_amounts(self, data: dict[str, Any]) -> None:
        currency = data.get("currency") or ""
        for name in ("amount_min", "amount_max"):
            text = (data.get(name) or "").strip()
            data[name] = None
            if not text:
                continue
            if not currency:
                if "currency" not in self.errors:
                    self.add_error("currency", _("Choose the currency of the amounts."))
                continue
            try:
                data[name] = parse_amount(text, currency)
            except MoneyError:
                self.add_error(name, _(
                    "Enter an amount in %(currency)s like 120.50: digits, at most "
                    "%(digits)s after the point.") % {"currency": currency,
                                                     "digits": minor_digits(currency)})
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The upper amount is below the lower one."))

    def _clean_cursor(self, data: dict[str, Any]) -> None:
        for name in CURSOR_PARAMETERS:
            text = data.get(name) or ""
            data[name] = None
            if not text:
                continue
            try:
                cursor = Cursor.decode(text)
            except InvalidCursor:
                self.add_error(None, _("This page link is broken; the queue starts again "
                                       "from the first page when you apply the filters."))
                continue
            if cursor.sort != data.get("sort"):
                self.add_error(None, _("This page link belongs to another sort order; "
                                       "apply the filters to start from the first page."))
                continue
            data[name] = cursor

    # -- what the form says ---------------------------------------------------------------

    def filters(self) -> Filters:
        data = self.cleaned_data
        product = data.get("product")
        return Filters(
            states=tuple(data["state"]),
            channel=data["channel"],
            sla=data["sla"],
            currency=data["currency"],
            amount_min=data["amount_min"],
            amount_max=data["amount_max"],
            product=product.code if product else "",
            rule=data["rule"],
            assignee=(int(data["assignee"]) if data["assignee"].isdigit()
                      else data["assignee"]),
            is_escalated=data["escalated"],
            is_awaiting_second_approval=data["second_approval"],
            search=data["q"].strip(),
        )

    @property
    def has_more_filters(self) -> bool:
        """Whether one of the filters folded under "More filters" is set (then it opens)."""
        return any(self.data.get(name) for name in (
            "currency", "amount_min", "amount_max", "product", "rule", "escalated",
            "second_approval"))

    def filter_query(self) -> QueryDict:
        """The filters as query parameters, without the page position and without empty
        values; the states always spelled out."""
        data = self.data
        assert isinstance(data, QueryDict)  # __init__ binds the form to one
        query = QueryDict(mutable=True)
        for name, values in data.lists():
            if name in PAGE_PARAMETERS or name == "state":
                continue
            kept = [value for value in values if value]
            if kept:
                query.setlist(name, kept)
        query.setlist("state", data.getlist("state"))
        query["filtered"] = "1"
        return query
