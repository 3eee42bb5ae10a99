"""The console's forms for policies: the TOML editor and the dry-run quote. They check the
shape of the input; the actions check what it means."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.policies.actions import POLICY_ID


class EditorForm(forms.Form):
    policy_id = forms.CharField(
        label=_("Policy id"), max_length=64,
        help_text=_("Lower-case letters, digits and -, like my-cloud. It must match the id "
                    "in the file."))
    source = forms.CharField(
        label=_("Policy file (TOML)"), strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false",
                                     "class": "toml-editor", "autocomplete": "off"}))
    note = forms.CharField(label=_("What changed (optional)"), max_length=500,
                           required=False)

    def __init__(self, *args: Any, asks_policy_id: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Only a new policy asks for its id; a version of an existing one knows it.
        if not asks_policy_id:
            del self.fields["policy_id"]

    def clean_policy_id(self) -> str:
        policy_id: str = self.cleaned_data["policy_id"].strip()
        if not POLICY_ID.fullmatch(policy_id):
            raise forms.ValidationError(
                _("Use lower-case letters, digits and -, starting with a letter or digit."))
        return policy_id


class DryRunForm(forms.Form):
    order = forms.CharField(label=_("Order id"), max_length=64)
    lines = forms.CharField(label=_("Line ids (optional)"), max_length=500, required=False,
                            help_text=_("Separated by commas; all lines when empty."))
    as_of = forms.DateTimeField(
        label=_("Asked at (optional)"), required=False,
        help_text=_("When the customer asks; now when empty."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format="%Y-%m-%dT%H:%M"))



def _moment(label: StrOrPromise, help_text: StrOrPromise) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class ProposeForm(forms.Form):
    """Read inside `timezone.override(the policy's zone)`: the time is on the policy's
    clock."""

    effective_at = _moment(_("Takes effect (optional)"),
                           _("On the policy's clock. Empty: as soon as another admin "
                             "approves it."))
    note = forms.CharField(label=_("Note for the approving admin (optional)"), max_length=500,
                           required=False)


class ApproveForm(forms.Form):
    seen = forms.CharField(widget=forms.HiddenInput)
    effective_at = _moment(_("Takes effect (optional)"),
                           _("On the policy's clock. Empty: at the time proposed, or at once "
                             "if none was (or it has passed)."))


class DeclineForm(forms.Form):
    seen = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why you decline"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))
