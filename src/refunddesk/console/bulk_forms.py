"""The queue's bulk bar as a form: which cases (the ticked rows), what to do to them, and
what that action needs (a staff member; a reason and a message). Its checks are about the
input only; whether each case may be changed is decided by that case's action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from refunddesk.cases import permissions
from refunddesk.cases.models import RefundCase, RejectionReason
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.console.bulk import ASSIGN, CLAIM, MAX_CASES, REJECT
from refunddesk.console.case_forms import RejectionReasonField, StaffChoiceField, text_area
from refunddesk.replies.editing import text_problem
from refunddesk.replies.filling import filled, values_for
from refunddesk.replies.models import CannedReply
from refunddesk.replies.placeholders import fill

ACTION_CHOICES = [
    (CLAIM, _("Claim")),
    (ASSIGN, _("Assign to…")),
    (REJECT, _("Reject…")),
]

NOTHING_SELECTED = _("Select at least one case in the queue first: tick the box at the "
                     "start of its row.")


class BulkForm(forms.Form):
    # The ticked rows' tracking numbers (the rows' checkboxes belong to this form).
    case = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    # "Select all on this page" without JavaScript: the bar lists the page's open cases.
    all_on_page = forms.BooleanField(label=_("Select all on this page"), required=False)
    on_page = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    action = forms.ChoiceField(label=_("With the selected cases"), choices=ACTION_CHOICES)
    assignee = StaffChoiceField(label=_("Assign to"), required=False,
                                queryset=permissions.assignable_staff(),
                                empty_label=_("Choose a staff member"))
    reason = RejectionReasonField(label=_("Rejection reason"), required=False,
                                  queryset=RejectionReason.objects.filter(is_active=True),
                                  empty_label=_("Choose a reason"))
    message = forms.CharField(
        label=_("Message to each customer"), required=False, widget=text_area(4),
        max_length=5000,
        help_text=_("It may hold {customer_name}, {amount} and {tracking_number}, filled in "
                    "for each case."))
    reply = forms.ModelChoiceField(
        label=_("Or a canned reply, in each customer's language"), required=False,
        queryset=CannedReply.objects.filter(is_active=True), empty_label=_("None"))
    # Set by the confirmation page: rejecting tells every customer, so it is asked twice.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee, reason, reply = (self.fields[name] for name in ("assignee", "reason", "reply"))
        # Each declared so above.
        assert isinstance(assignee, StaffChoiceField)
        assert isinstance(reason, RejectionReasonField)
        assert isinstance(reply, forms.ModelChoiceField)
        assignee.queryset = permissions.assignable_staff()
        reason.queryset = RejectionReason.objects.filter(is_active=True)
        reason.language = language
        reply.queryset = CannedReply.objects.filter(is_active=True)

    def _tracking_numbers(self, name: str) -> list[str]:
        numbers = []
        for raw in self.cleaned_data.get(name) or []:
            try:
                numbers.append(normalise(str(raw)))
            except NotATrackingNumber:
                raise forms.ValidationError(
                    _("“%(value)s” is not a tracking number."), code="bad_case",
                    params={"value": str(raw)[:40]}) from None
        return numbers

    def clean_case(self) -> list[str]:
        return self._tracking_numbers("case")

    def clean_on_page(self) -> list[str]:
        return self._tracking_numbers("on_page")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "case" not in self.errors and "on_page" not in self.errors:
            chosen = cleaned.get("case", [])
            if cleaned.get("all_on_page"):
                chosen = [*chosen, *cleaned.get("on_page", [])]
            chosen = list(dict.fromkeys(chosen))
            cleaned["case"] = chosen
            if not chosen:
                self.add_error("case", forms.ValidationError(NOTHING_SELECTED,
                                                             code="nothing_selected"))
            elif len(chosen) > MAX_CASES:
                self.add_error("case", forms.ValidationError(ngettext(
                    "You selected %(count)d cases; act on at most %(limit)d at once.",
                    "You selected %(count)d cases; act on at most %(limit)d at once.",
                    len(chosen)) % {"count": len(chosen), "limit": MAX_CASES},
                    code="too_many"))
        action = cleaned.get("action")
        if action == ASSIGN and cleaned.get("assignee") is None:
            self.add_error("assignee", forms.ValidationError(
                _("Choose the staff member who gets the cases."), code="no_assignee"))
        if action == REJECT:
            if cleaned.get("reason") is None:
                self.add_error("reason", forms.ValidationError(
                    _("Choose the reason for the rejection."), code="no_reason"))
            message = (cleaned.get("message") or "").strip()
            if cleaned.get("reply") is not None and message:
                self.add_error("reply", forms.ValidationError(
                    _("Write a message or choose a canned reply, not both."), code="both"))
            elif cleaned.get("reply") is None and not message:
                self.add_error("message", forms.ValidationError(
                    _("Write the customers a message explaining the rejection, or choose a "
                      "canned reply."), code="no_message"))
            elif message and text_problem(message):
                self.add_error("message", forms.ValidationError(text_problem(message),
                                                                code="placeholder"))
        return cleaned

    def message_for(self, case: RefundCase) -> str:
        """What the customer of `case` reads: the canned reply in the case's language, or
        the typed message, with the placeholders filled in for the case."""
        reply = self.cleaned_data.get("reply")
        if reply is not None:
            return filled(reply, case)
        return fill(self.cleaned_data["message"].strip(), values_for(case))

    @property
    def is_selection_error(self) -> bool:
        """Nothing (or too much) selected: said on the queue itself, where one selects."""
        return "case" in self.errors

    @property
    def needs_confirmation(self) -> bool:
        return self.cleaned_data["action"] == REJECT and not self.cleaned_data["confirmed"]
