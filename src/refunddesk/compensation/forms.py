"""The console's form for a new compensation run: the selection, the outage and the remedy.
Every mistake is a form error naming the field; nothing is created until all is right."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Product
from refunddesk.compensation import remedies
from refunddesk.compensation.actions import RunSpec
from refunddesk.compensation.models import CreditTo, Remedy
from refunddesk.compensation.remedies import RemedyError, Window, parse_percent
from refunddesk.compensation.selection import Selection
from refunddesk.policy.money import MoneyError, is_known_currency, parse_amount

MAX_PATTERNS = 50
MAX_MESSAGE = 2000
MAX_EXTENSION_DAYS = 3650
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def words(text: str) -> list[str]:
    """One entry a line or between commas, blanks dropped, in the order given."""
    return list(dict.fromkeys(part.strip() for part in re.split(r"[,\n]", text or "")
                              if part.strip()))


def parse_fixed(text: str) -> dict[str, int]:
    """ "CNY 20.00" a line → {"CNY": 2000}; ValueError naming the line at fault."""
    amounts: dict[str, int] = {}
    for line in (line.strip() for line in (text or "").splitlines()):
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not is_known_currency(parts[0].upper()):
            raise ValueError(_("“%(line)s”: write a currency code and an amount, like "
                               "“CNY 20.00”.") % {"line": line})
        currency = parts[0].upper()
        try:
            amount = parse_amount(parts[1], currency)
        except MoneyError:
            raise ValueError(_("“%(line)s”: the amount is not one %(currency)s can have.")
                             % {"line": line, "currency": currency}) from None
        if amount <= 0:
            raise ValueError(_("“%(line)s”: the amount must be above zero.") % {"line": line})
        if currency in amounts:
            raise ValueError(_("%(currency)s is given twice.") % {"currency": currency})
        amounts[currency] = amount
    return amounts


class RunForm(forms.Form):
    products = forms.MultipleChoiceField(
        label=_("Products"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("The lines of these products (leave all unticked to select by SKU or "
                    "flag alone)."))
    skus = forms.CharField(
        label=_("SKUs"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One a line or comma-separated; end with * for every SKU starting so "
                    "(cvm.sh.*). A region in the SKU is selected this way."))
    flags = forms.CharField(
        label=_("Line flags"), required=False,
        help_text=_("Lines carrying all of these flags, comma-separated (a region sent as "
                    "a flag: region:ap-shanghai)."))
    outage_start = forms.DateTimeField(
        label=_("Outage start"), input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In the desk's time zone."))
    outage_end = forms.DateTimeField(
        label=_("Outage end"), input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    remedy = forms.ChoiceField(label=_("Remedy"), choices=Remedy.choices,
                               widget=forms.RadioSelect, initial=Remedy.REFUND_TIME)
    percent = forms.CharField(label=_("Percentage"), required=False, max_length=6,
                              help_text=_("For a percentage credit: 10 or 12.5."))
    fixed_amounts = forms.CharField(
        label=_("Fixed amounts"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "CNY 20.00\nUSD 3.00"}),
        help_text=_("For a fixed credit: per currency, one a line. Lines in other "
                    "currencies get nothing."))
    credit_to = forms.ChoiceField(label=_("Credit to"), choices=CreditTo.choices,
                                  widget=forms.RadioSelect, initial=CreditTo.BALANCE,
                                  required=False)
    extension_days = forms.IntegerField(
        label=_("Extension (days)"), required=False, min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        help_text=_("For an extension: leave empty to extend each line by the time the "
                    "outage took from it."))
    message_zh = forms.CharField(label=_("Message to customers (Chinese)"), required=False,
                                 max_length=MAX_MESSAGE,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    message_en = forms.CharField(label=_("Message to customers (English)"), required=False,
                                 max_length=MAX_MESSAGE,
                                 widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        products = self.fields["products"]
        assert isinstance(products, forms.MultipleChoiceField)  # declared so above
        products.choices = [
            (code, f"{name} ({code})") for code, name in
            Product.objects.order_by("code").values_list("code", "name_en")]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in ("skus", "flags"):
            patterns = words(cleaned.get(name, ""))
            if len(patterns) > MAX_PATTERNS:
                self.add_error(name, _("At most %(count)s entries.") % {"count": MAX_PATTERNS})
            if any(len(pattern) > 100 for pattern in patterns):
                self.add_error(name, _("An entry is at most 100 characters."))
            cleaned[name] = patterns
        if not (cleaned.get("products") or cleaned.get("skus") or cleaned.get("flags")):
            raise forms.ValidationError(_("Choose the affected lines: at least a product, a "
                                          "SKU or a flag."))
        start, end = cleaned.get("outage_start"), cleaned.get("outage_end")
        if start and end and end <= start:
            self.add_error("outage_end", _("The outage must end after it starts."))
        remedy = cleaned.get("remedy")
        percent = 0
        fixed: dict[str, int] = {}
        if remedy == remedies.CREDIT_PERCENT:
            try:
                percent = parse_percent(cleaned.get("percent") or "")
            except RemedyError as error:
                self.add_error("percent", str(error))
        if remedy == remedies.CREDIT_FIXED:
            try:
                fixed = parse_fixed(cleaned.get("fixed_amounts", ""))
            except ValueError as error:
                self.add_error("fixed_amounts", str(error))
            else:
                if not fixed:
                    self.add_error("fixed_amounts", _("Give an amount for at least one "
                                                      "currency."))
        if self.errors:
            return cleaned
        # Without errors, the required fields are all there.
        assert start is not None and end is not None and remedy is not None
        try:
            cleaned["spec"] = RunSpec(
                Selection(tuple(cleaned.get("products") or ()), tuple(cleaned["skus"]),
                          tuple(cleaned["flags"])),
                Window(start, end),
                remedies.Remedy(remedy, percent_hundredths=percent, fixed=fixed,
                                credit_to=cleaned.get("credit_to") or CreditTo.BALANCE,
                                extension_days=(cleaned.get("extension_days")
                                                if remedy == remedies.EXTENSION else None)),
                cleaned.get("message_en", ""), cleaned.get("message_zh", ""))
        except RemedyError as error:
            raise forms.ValidationError(str(error)) from None
        return cleaned


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why"), required=False, max_length=MAX_MESSAGE,
                             widget=forms.Textarea(attrs={"rows": 2}))
