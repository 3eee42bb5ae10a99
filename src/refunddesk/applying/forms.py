"""The refund application as a person fills it in, as Django forms: the customer's in the
portal, and the agent's in the console (console/assist_forms.py builds on ApplyForm).

Files are checked by content in cases/uploads.py when an action stores them; the forms only
count them. A refusal from the action comes back onto the form as an error of its field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import OrderLine
from refunddesk.cases.models import ReasonCategory

MAX_FILES = 10
TEXT_MAX = 4000


class StackedForm(forms.Form):
    """The web pages' forms: their labels stand above their fields, with no suffix."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
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


class ReasonChoiceField(forms.ModelChoiceField[ReasonCategory]):
    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        self.language = language
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: ReasonCategory) -> str:
        return str(obj.name_for(self.language))


class ApplyForm(StackedForm):
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
        chosen = self.fields["lines"]
        assert isinstance(chosen, forms.MultipleChoiceField)  # declared so above
        chosen.choices = [(line.line_id, line.line_id) for line in lines]
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


class QuoteForm(StackedForm):
    """Just the lines, for the live quote."""

    lines = forms.MultipleChoiceField(required=False)

    def __init__(self, *args: Any, lines: Iterable[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = self.fields["lines"]
        assert isinstance(chosen, forms.MultipleChoiceField)  # declared so above
        chosen.choices = [(line.line_id, line.line_id) for line in lines]
