"""The policy lab's form: which text of a policy to simulate, over which days and which
product. It checks the input's shape and that the text is a valid version of this policy;
the simulation itself runs in the worker."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Product
from refunddesk.policies.overview import VersionEntry, policy_entry
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

# A longer period is a simulation nobody waits for; a year covers "last quarter" and more.
MAX_DAYS = 366


# The period a simulation starts from: about a quarter, up to today.
DEFAULT_DAYS = 90


def default_period(today: date) -> tuple[date, date]:
    """The last DEFAULT_DAYS days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


class SimulationForm(forms.Form):
    version = forms.ChoiceField(label=_("Version to simulate"), required=False)
    source = forms.CharField(
        label=_("Or a policy text (TOML)"), required=False, strip=False,
        help_text=_("Paste the editor's unsaved text to simulate it instead of a saved "
                    "version."),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100, "spellcheck": "false",
                                     "class": "toml-editor", "autocomplete": "off"}))
    start = forms.DateField(label=_("Requests submitted from"),
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("to (included)"),
                          widget=forms.DateInput(attrs={"type": "date"}))
    product = forms.ChoiceField(label=_("Product"), required=False)

    def __init__(self, *args: Any, policy_id: str, language: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.policy_id = policy_id
        entry = policy_entry(policy_id, language, at=timezone.now())
        self.versions: dict[str, VersionEntry] = {
            version.ref: version for version in (entry.versions if entry else [])}
        version_field, product_field = self.fields["version"], self.fields["product"]
        assert isinstance(version_field, forms.ChoiceField)  # both declared so above
        assert isinstance(product_field, forms.ChoiceField)
        version_field.choices = [
            (ref, f"{ref} · {_state_label(version)}") for ref, version in self.versions.items()]
        # A version not yet published (a draft, or one waiting for approval) is what is
        # usually simulated.
        drafts = [ref for ref, version in self.versions.items() if version.is_unpublished]
        self.fields["version"].initial = drafts[0] if drafts else next(iter(self.versions), "")
        products = Product.objects.filter(policy_id=policy_id).order_by("code")
        product_field.choices = [
            ("", _("Every product")),
            *((product.code, f"{product.code} · {product.name_for(language)}")
              for product in products)]
        start, end = default_period(timezone.localdate())
        self.fields["start"].initial, self.fields["end"].initial = start, end
        self.policy: Policy | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The period ends before it starts."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        text = cleaned.get("source") or ""
        if text.strip():
            try:
                self.policy = policy_from_toml(text)
            except PolicyError as error:
                self.add_error("source", _("Not a valid policy: %(problems)s")
                               % {"problems": "; ".join(error.problems)})
                return cleaned
            if self.policy.id != self.policy_id:
                self.add_error("source", _("This text is policy %(found)s, not %(expected)s.")
                               % {"found": self.policy.id, "expected": self.policy_id})
            cleaned["text"] = text
        else:
            chosen = self.versions.get(cleaned.get("version") or "")
            if chosen is None:
                self.add_error("version", _("Choose a version, or paste a policy text."))
                return cleaned
            cleaned["text"] = chosen.source()
            try:
                self.policy = policy_from_toml(cleaned["text"])
            except PolicyError as error:
                self.add_error("version", _("This version is not a valid policy: "
                                            "%(problems)s")
                               % {"problems": "; ".join(error.problems)})
        return cleaned


def _state_label(version: VersionEntry) -> str:
    if version.is_preset:
        return str(_("preset"))
    if version.is_draft:
        return str(_("draft"))
    if version.is_proposed:
        return str(_("proposed"))
    return str(_("published"))
