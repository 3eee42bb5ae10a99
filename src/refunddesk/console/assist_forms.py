"""What an agent enters to open a case for a caller: who the caller is, which lines, why,
and the identity checklist. The checklist's answers are compared with the account by
cases/actions/assisted.py; its refusals come back onto these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from refunddesk.applying.forms import (
    FILES_HELP,
    TEXT_MAX,
    ApplyForm,
    MultipleFileField,
    StackedForm,
)
from refunddesk.cases.actions.assisted import REFERENCE_DIGITS

SEARCH_MIN_CHARS = 2


class CustomerSearchForm(StackedForm):
    q = forms.CharField(
        label=_("E-mail, phone, account id, name or order id"), max_length=200,
        min_length=SEARCH_MIN_CHARS,
        error_messages={"required": _("Type what the caller gives you."),
                        "min_length": _("Type at least %(limit_value)d characters.")},
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                      "autofocus": True}))

    def clean_q(self) -> str:
        query: str = self.cleaned_data["q"].strip()
        if len(query) < SEARCH_MIN_CHARS:
            raise forms.ValidationError(
                _("Type at least %(limit_value)d characters."), code="min_length",
                params={"limit_value": SEARCH_MIN_CHARS})
        return query


class AssistForm(ApplyForm):
    """ApplyForm (lines, reason, files; a line already in a case is refused) in the agent's
    words, with the identity checklist and the language the customer's e-mails are in.

    The order number is never filled in for the agent: the caller has to read it out."""

    contact = forms.CharField(
        label=_("E-mail address or phone number the caller gives"), max_length=200,
        help_text=_("Ask the caller; do not read the account's out. A phone number may come "
                    "with or without +86."),
        error_messages={"required": _("Ask for the account's e-mail address or phone "
                                      "number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    order_number = forms.CharField(
        label=_("Order number the caller reads out"), max_length=64,
        error_messages={"required": _("Ask the caller for the order number.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    payment_reference = forms.CharField(
        label=_("End of a payment reference"), max_length=128, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    has_payment_receipt = forms.BooleanField(
        label=_("Instead, the caller sent a payment receipt (attach it below)"),
        required=False)
    reason_text = forms.CharField(
        label=_("The caller's words (optional)"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleFileField(
        label=_("Files the caller sent (optional; the receipt, if that is the proof)"),
        required=False, help_text=FILES_HELP)
    language = forms.ChoiceField(
        label=_("Language of the customer's e-mails"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Formatted here, in the request's language: a lazy string formatted at import
        # time would be fixed in the language active then.
        self.fields["payment_reference"].help_text = gettext(
            "At least the last %(n)d characters, as the caller reads them from their "
            "payment record.") % {"n": REFERENCE_DIGITS}

    def checklist_error(self, problem: str, message: Any) -> None:
        """A refusal of verify_identity at the field it is about. The missing receipt is the
        files field's problem when the caller chose the receipt over a reference."""
        field = problem if problem in self.fields else None
        if (problem == "payment_reference" and not self.cleaned_data.get("payment_reference")
                and self.cleaned_data.get("has_payment_receipt")):
            field = "attachments"
        self.add_error(field, str(message))
