"""The forms of the console's case page: one per staff action.

They check the shape of the input (amounts that are money, a deadline in the future, a
reason picked from the managed list) and say what is wrong next to the field. Whether the
staff member may do the thing at all is the action's business (cases/permissions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import permissions
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import RefundCase, RejectionReason
from refunddesk.cases.states import TERMINAL_STATES, allowed_actions
from refunddesk.core.money import format_money
from refunddesk.policy.money import MoneyError, format_amount, minor_digits, parse_amount

# How long a customer gets to answer a request for information unless the agent says
# otherwise.
DEFAULT_INFO_DAYS = 5


def text_area(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class StaffChoiceField(forms.ModelChoiceField[Any]):
    """Staff members by name and user name (staff_with gives any user model's rows)."""

    def label_from_instance(self, obj: Any) -> str:
        return staff_name(obj)


class RejectionReasonField(forms.ModelChoiceField[RejectionReason]):
    """Rejection reasons named in `language`, which the form sets to the viewer's."""

    language = "en"

    def label_from_instance(self, obj: RejectionReason) -> str:
        return obj.name_for(self.language)


class ClaimForm(forms.Form):
    """No fields: the button and the CSRF token."""


class AssignForm(forms.Form):
    assignee = StaffChoiceField(
        label=_("Assign to"), queryset=permissions.assignable_staff(), required=False,
        empty_label=_("Nobody (back to the open queue)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Evaluated per form, so a colleague given a role a minute ago is offered.
        assignee = self.fields["assignee"]
        assert isinstance(assignee, StaffChoiceField)  # declared so above
        assignee.queryset = permissions.assignable_staff()


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note (staff only)"), widget=text_area(),
                           max_length=5000)


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message to the customer"), widget=text_area(4),
                           max_length=5000)


def end_of_day(day: date) -> datetime:
    """The last second of `day` in the desk's time zone (settings.TIME_ZONE)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(settings.TIME_ZONE))


def default_info_day(now: datetime | None = None) -> date:
    now = now or timezone.now()
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date() + timedelta(days=DEFAULT_INFO_DAYS)


class RequestInfoForm(forms.Form):
    documents = forms.MultipleChoiceField(
        label=_("Documents to send"), choices=DocumentKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    questions = forms.CharField(label=_("Questions to the customer"), widget=text_area(4),
                                required=False, max_length=5000)
    due_day = forms.DateField(
        label=_("Answer by (end of the day)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.fields["due_day"].initial = default_info_day(self.now)

    def clean_due_day(self) -> date:
        day: date = self.cleaned_data["due_day"]
        if end_of_day(day) <= self.now:
            raise forms.ValidationError(_("Choose a day from today on."), code="past")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("questions", "").strip() \
                and not cleaned.get("documents"):
            raise forms.ValidationError(_("Ask a question or pick the documents you need."),
                                        code="empty")
        return cleaned

    @property
    def due(self) -> datetime:
        return end_of_day(self.cleaned_data["due_day"])


class ApproveForm(forms.Form):
    """One amount per line of the case, in major units, prefilled with the assessment's."""

    note = forms.CharField(label=_("Note on the decision (the customer sees it)"),
                           widget=text_area(2), required=False, max_length=2000)
    justification = forms.CharField(
        label=_("Justification for approving more than assessed"), widget=text_area(2),
        required=False, max_length=2000,
        help_text=_("Needed when a line gets more than its assessed refund; only a reviewer "
                    "may do that."))

    def __init__(self, *args: Any, case: RefundCase, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        # What this person may approve, said on the form before they click rather than
        # refused after: the actions check it again (cases/permissions.py).
        self.may_override = user is not None and permissions.has(user, "override_assessment")
        self.limit = permissions.approval_limit(user, case.currency) if user is not None \
            else None
        if not self.may_override:
            del self.fields["justification"]
        self.lines = list(case.lines.select_related("order_line").order_by(
            "order_line__position", "order_line__line_id"))
        amount_fields = {}
        for index, line in enumerate(self.lines):
            order_line = line.order_line
            amount_fields[self.amount_name(index)] = forms.CharField(
                label=_("Line %(line)s (%(sku)s)") % {"line": order_line.line_id,
                                                       "sku": order_line.sku},
                initial=format_amount(line.assessed_minor, case.currency),
                max_length=24, widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                             "class": "amount"}),
                help_text=(_("assessed %(assessed)s, paid %(paid)s")
                           if self.may_override else
                           _("at most the assessed %(assessed)s (paid %(paid)s)"))
                % {"assessed": format_money(line.assessed_minor, case.currency),
                   "paid": format_money(order_line.amount_paid_minor, case.currency)})
        # The amounts first, then the note and the justification.
        self.fields = {**amount_fields, **self.fields}

    @property
    def assessed_total(self) -> int:
        return sum(line.assessed_minor for line in self.lines)

    @property
    def limit_text(self) -> str:
        return "" if self.limit is None else format_money(self.limit, self.case.currency)

    @property
    def assessed_above_limit(self) -> bool:
        """The prefilled amounts are more than this person may approve: the form says so
        at the top, before anything is typed."""
        return self.limit is not None and self.assessed_total > self.limit

    @staticmethod
    def amount_name(index: int) -> str:
        return f"amount_{index}"

    def amount_fields(self) -> list[forms.BoundField]:
        return [self[self.amount_name(index)] for index in range(len(self.lines))]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        amounts: dict[str, int] = {}
        currency = self.case.currency
        for index, line in enumerate(self.lines):
            name = self.amount_name(index)
            text = (cleaned.get(name) or "").strip()
            if name in self.errors:
                continue
            try:
                amount = parse_amount(text, currency)
            except MoneyError:
                self.add_error(name, forms.ValidationError(
                    _("Enter an amount in %(currency)s such as 120.50: digits, at most "
                      "%(digits)d after the point, nothing negative.")
                    % {"currency": currency, "digits": minor_digits(currency)},
                    code="not_an_amount"))
                continue
            paid = line.order_line.amount_paid_minor
            if amount > paid:
                self.add_error(name, forms.ValidationError(
                    _("At most %(paid)s, what the line cost.")
                    % {"paid": format_money(paid, currency)},
                    code="above_paid"))
                continue
            if amount > line.assessed_minor and not self.may_override:
                self.add_error(name, forms.ValidationError(
                    _("At most %(assessed)s, the assessed refund: only a reviewer may "
                      "approve more.")
                    % {"assessed": format_money(line.assessed_minor, currency)},
                    code="above_assessed"))
                continue
            amounts[line.order_line.line_id] = amount
        if self.errors:
            return cleaned
        total = sum(amounts.values())
        if total == 0:
            raise forms.ValidationError(
                _("Approving nothing is a rejection: reject the case instead."), code="zero")
        if self.limit is not None and total > self.limit:
            raise forms.ValidationError(
                _("This approval (%(total)s) is above your approval limit of %(limit)s: "
                  "lower the amounts or escalate the case to a reviewer.")
                % {"total": format_money(total, currency), "limit": self.limit_text},
                code="above_limit")
        is_override = any(amounts[line.order_line.line_id] > line.assessed_minor
                          for line in self.lines)
        if is_override and not cleaned.get("justification", "").strip():
            self.add_error("justification", forms.ValidationError(
                _("Write why this line gets more than the assessed refund."),
                code="justification_needed"))
        cleaned["amounts"] = amounts
        cleaned["is_override"] = is_override
        return cleaned


class ProposalForm(forms.Form):
    """Confirming or declining names the proposal the page showed, so a different one
    proposed meanwhile is not confirmed unseen."""

    proposal_at = forms.CharField(widget=forms.HiddenInput)


class ConfirmForm(ProposalForm):
    pass


class DeclineForm(ProposalForm):
    note = forms.CharField(label=_("Why you decline"), widget=text_area(2), required=False,
                           max_length=2000,
                           help_text=_("Needed unless you take back your own proposal."))


class RejectForm(forms.Form):
    reason = RejectionReasonField(label=_("Reason"),
                                  queryset=RejectionReason.objects.filter(is_active=True),
                                  empty_label=_("Choose a reason"))
    message = forms.CharField(label=_("Message to the customer"), widget=text_area(4),
                              max_length=5000)

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        assert isinstance(reason, RejectionReasonField)  # declared so above
        reason.queryset = RejectionReason.objects.filter(is_active=True)
        reason.language = language


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("Why it goes to a reviewer"), widget=text_area(2),
                             max_length=2000)
    reviewer = StaffChoiceField(label=_("Reviewer"), queryset=permissions.reviewers(),
                                required=False,
                                empty_label=_("Any reviewer (the reviewers' queue)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reviewer = self.fields["reviewer"]
        assert isinstance(reviewer, StaffChoiceField)  # declared so above
        reviewer.queryset = permissions.reviewers()


FORM_CLASSES: dict[str, type[forms.Form]] = {
    "claim": ClaimForm, "assign": AssignForm, "note": NoteForm, "message": MessageForm,
    "request_info": RequestInfoForm, "approve": ApproveForm, "confirm": ConfirmForm,
    "decline": DeclineForm, "reject": RejectForm, "escalate": EscalateForm,
}


def form_for(key: str, case: RefundCase, data: Any = None, *, language: str = "en",
             user: Any = None, initial: dict[str, Any] | None = None) -> forms.Form:
    """The form of action `key` for `case` as `user` sees it: blank (or prefilled with
    `initial`, such as a canned reply), or bound to `data` (request.POST). Each form's
    element ids carry its key: the page shows several forms at once."""
    kwargs: dict[str, Any] = {"auto_id": f"id_{key}_%s"}
    if initial:
        kwargs["initial"] = initial
    if key == "approve":
        kwargs.update(case=case, user=user)
    elif key == "reject":
        kwargs["language"] = language
    elif key in ("confirm", "decline") and data is None:
        kwargs["initial"] = {"proposal_at": (case.proposal or {}).get("at", "")}
    return FORM_CLASSES[key](data, **kwargs)


# Where a canned reply goes: the form's key and its text field.
REPLY_TARGETS = {"message": "body", "reject": "message"}


def allows(check: Callable[..., None], *args: Any) -> bool:
    try:
        check(*args)
    except NotPermitted:
        return False
    return True


def offered(case: RefundCase, user: Any) -> list[str]:
    """The keys of the forms the page shows `user` for `case`, in FORM_CLASSES' order.
    Only what the role and the state allow; the actions check everything again."""
    if not permissions.can_work(user):
        return []
    possible = set(allowed_actions(case.state))
    is_open = case.state not in TERMINAL_STATES
    waiting = case.proposal is not None
    decides = allows(permissions.require_decide, user, case)
    confirms = waiting and allows(permissions.require_confirm, user, case)
    shown = {
        "claim": is_open and case.assignee_id is None,
        "assign": is_open,
        "note": True,
        "message": is_open,
        "request_info": "request_info" in possible and not waiting,
        "approve": "approve" in possible and not waiting and decides,
        "confirm": confirms,
        "decline": waiting and (case.proposed_by_id == user.pk or confirms),
        "reject": "reject" in possible and not waiting and decides,
        "escalate": "escalate" in possible,
    }
    return [key for key in FORM_CLASSES if shown[key]]


def staff_name(user: Any) -> str:
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else str(user.get_username())
