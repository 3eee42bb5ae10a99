"""Every input the portal takes, as Django forms; the application form, which the console's
assisted application shares, is in applying/forms.py.

Files are checked by content in cases/uploads.py when an action stores them; the forms only
count them. A refusal from the action comes back onto the form as an error of its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.applying.forms import (
    FILES_HELP,
    MAX_FILES,
    TEXT_MAX,
    MultipleFileField,
    StackedForm,
)
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.core.login_throttle import forget_attempts, take_attempt

# A field named `files` (the name the pages and the API post) is not the form's `files`
# (the uploaded data): the form's metaclass moves declared fields out of the class. The
# stubs declare BaseForm.files as a class attribute and cannot express that, so mypy takes
# each such field for an override of it; those lines carry `type: ignore[assignment]`.


class ConfirmForm(StackedForm):
    """The second step of an action that cannot be undone: the confirmation page posts it."""

    confirmed = forms.BooleanField(widget=forms.HiddenInput, initial=True)


class MessageForm(StackedForm):
    body = forms.CharField(label=_("Your message"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))


class DocumentsForm(StackedForm):
    files = MultipleFileField(label=_("Files"), help_text=FILES_HELP)  # type: ignore[assignment]


class AnswerForm(StackedForm):
    """The answer to a request for information: one answer box, one upload place per
    document the agent asked for (`kinds`, in the order asked), and one for anything else.

    `uploaded` are the kinds the case already has a document of. A kind with none, and
    no file for it now, must be explained in the answer: the agent then gets either the
    document or the reason it is not there.
    """

    message = forms.CharField(label=_("Your answer"), required=False, max_length=TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("Other files (optional)"), required=False, help_text=FILES_HELP)

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


class AppealForm(StackedForm):
    text = forms.CharField(label=_("Why should the decision change?"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(  # type: ignore[assignment]
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
            return self._allauth_clean()
        take_attempt(self.request, f"login-{login}")
        cleaned = self._allauth_clean()
        forget_attempts(self.request, f"login-{login}")
        return cleaned

    def _allauth_clean(self) -> dict[str, Any]:
        # Called on its class, not through super(): mypy does not apply
        # untyped_calls_exclude to calls through super() (python/mypy#16653). Every path
        # of allauth's clean returns self.cleaned_data.
        cleaned: dict[str, Any] = AllauthLoginForm.clean(self)
        return cleaned
