"""The admin's form of a canned reply. An unknown placeholder is an error on the text that
holds it, naming it (editing.py checks again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.replies.editing import text_problem
from refunddesk.replies.models import TEXT_MAX, TITLE_MAX

PLACEHOLDER_HELP = _("Placeholders, filled in for each case: {customer_name}, {amount} "
                     "(with its currency) and {tracking_number}.")


class ReplyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX,
                            help_text=_("What agents pick the reply by."))
    text_zh = forms.CharField(label=_("Text in Chinese"), max_length=TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=PLACEHOLDER_HELP)
    text_en = forms.CharField(label=_("Text in English"), max_length=TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 6}),
                              help_text=PLACEHOLDER_HELP)

    def _clean_text(self, name: str) -> str:
        text: str = self.cleaned_data[name].strip()
        problem = text_problem(text)
        if problem:
            raise forms.ValidationError(problem, code="placeholder")
        return text

    def clean_text_zh(self) -> str:
        return self._clean_text("text_zh")

    def clean_text_en(self) -> str:
        return self._clean_text("text_en")
