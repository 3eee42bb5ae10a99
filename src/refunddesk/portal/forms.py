"""Every input the portal takes, as Django forms.

Files are checked by content in cases/uploads.py when an action stores them; the forms only
count them. A refusal from the action comes back onto the form as an error of its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import OrderLine
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.models import ReasonCategory
from refunddesk.core.login_throttle import forget_attempts, take_attempt

MAX_FILES = 10
TEXT_MAX = 4000


class PortalForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # labels stand above their fields
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": ".pdf,.png,.jpg,.jpeg,.webp,.txt,application/pdf,image/png,image/jpeg,"
                      "image/webp,text/plain"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        files = [f for f in files if f]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Attach at most %(limit)d files at a time."),
                code="too_many", params={"limit": MAX_FILES})
        return files


FILES_HELP = _("PDF, PNG, JPEG, WebP or plain text, up to 10 MB each.")


class ReasonChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        self.language = language
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name_for(self.language))


class ApplyForm(PortalForm):
    """Which lines of an order, why (optional), and evidence (optional).

    `taken` maps a line id to the tracking number of the case that already holds it: such a
    line is shown, but choosing it is refused with a message that names the case.
    """

    lines = forms.MultipleChoiceField(
        label=_("Lines to refund"), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one line of the order.")})
    reason_category = forms.Field(required=False)  # replaced in __init__
    reason_text = forms.CharField(
        label=_("In your own words (optional)"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleFileField(label=_("Attachments (optional)"), required=False,
                                    help_text=FILES_HELP)

    def __init__(self, *args: Any, lines: Iterable[OrderLine], taken: Mapping[str, str],
                 language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken = dict(taken)
        self.fields["lines"].choices = [(line.line_id, line.line_id) for line in lines]
        self.fields["reason_category"] = ReasonChoiceField(
            queryset=ReasonCategory.objects.filter(is_active=True), required=False,
            label=_("Reason (optional)"), empty_label=_("— choose a reason —"),
            language=language)

    def clean_lines(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["lines"]
        held = [line_id for line_id in chosen if line_id in self.taken]
        if held:
            raise forms.ValidationError(
                _("A refund case is already open for line %(line)s (tracking number "
                  "%(number)s); follow that case instead."),
                code="lines_already_in_case",
                params={"line": held[0], "number": self.taken[held[0]]})
        return chosen


class QuoteForm(PortalForm):
    """Just the lines, for the live quote."""

    lines = forms.MultipleChoiceField(required=False)

    def __init__(self, *args: Any, lines: Iterable[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(line.line_id, line.line_id) for line in lines]


class ConfirmForm(PortalForm):
    """The second step of an action that cannot be undone: the confirmation page posts it."""

    confirmed = forms.BooleanField(widget=forms.HiddenInput, initial=True)


class MessageForm(PortalForm):
    body = forms.CharField(label=_("Your message"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))


class DocumentsForm(PortalForm):
    files = MultipleFileField(label=_("Files"), help_text=FILES_HELP)


class AnswerForm(PortalForm):
    """The answer to a request for information: one answer box, one upload place per
    document the agent asked for (`kinds`, in the order asked), and one for anything else.

    `uploaded` are the kinds the case already has a document of. A kind with none, and
    no file for it now, must be explained in the answer: the agent then gets either the
    document or the reason it is not there.
    """

    message = forms.CharField(label=_("Your answer"), required=False, max_length=TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=_("Other files (optional)"), required=False,
                              help_text=FILES_HELP)

    def __init__(self, *args: Any, kinds: Iterable[str] = (),
                 uploaded: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = [kind for kind in kinds if kind in DocumentKind.values]
        self.uploaded = set(uploaded)
        files = self.fields.pop("files")
        for kind in self.kinds:
            self.fields[self.field_name(kind)] = MultipleFileField(
                label=DocumentKind(kind).label, required=False, help_text=FILES_HELP)
        self.fields["files"] = files  # after the documents asked for

    @staticmethod
    def field_name(kind: str) -> str:
        return f"document_{kind}"

    def document_fields(self) -> list[tuple[str, forms.BoundField]]:
        """(kind, its upload field) for each document asked for."""
        return [(kind, self[self.field_name(kind)]) for kind in self.kinds]

    def field_of_slot(self, slot: str) -> str:
        """The field a refused file of an action's `slot` (a kind, or "") came from."""
        return self.field_name(slot) if slot in self.kinds else "files"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        by_kind = {kind: cleaned.get(self.field_name(kind)) or [] for kind in self.kinds}
        count = len(cleaned.get("files") or []) + sum(len(files) for files in by_kind.values())
        if count > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(limit)d files at a time."),
                                        code="too_many", params={"limit": MAX_FILES})
        has_answer = bool(cleaned.get("message", "").strip())
        if not has_answer and not count:
            raise forms.ValidationError(_("Write an answer or attach a file."), code="empty")
        missing = [kind for kind in self.kinds
                   if not by_kind[kind] and kind not in self.uploaded]
        if missing and not has_answer:
            raise forms.ValidationError(
                _("Attach %(documents)s, or say in your answer why you cannot."),
                code="documents_missing",
                params={"documents": _("; ").join(str(DocumentKind(kind).label)
                                                  for kind in missing)})
        cleaned["documents"] = {kind: files for kind, files in by_kind.items() if files}
        return cleaned


class AppealForm(PortalForm):
    text = forms.CharField(label=_("Why should the decision change?"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(
        label=_("New evidence"), help_text=FILES_HELP,
        error_messages={"required": _("An appeal needs new evidence: attach at least one "
                                      "document.")})


class LoginForm(AllauthLoginForm):
    """allauth's login form, its first field named for both kinds of user: customers log in
    with their e-mail address, staff with their user name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail or user name")
        self.fields["login"].widget.attrs["placeholder"] = ""

    def clean(self) -> dict[str, Any]:
        # Wrong passwords for one login name are counted per address as well
        # (core/login_throttle.py); allauth's own check runs inside.
        login = str(self.cleaned_data.get("login") or "").strip().lower()
        if not login:
            return super().clean()
        take_attempt(self.request, f"login-{login}")
        cleaned = super().clean()
        forget_attempts(self.request, f"login-{login}")
        return cleaned
