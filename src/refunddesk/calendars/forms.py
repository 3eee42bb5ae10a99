"""The console's calendar forms: one day, a year's list (pasted or uploaded), a country."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from refunddesk.calendars.actions import FIRST_YEAR, LAST_YEAR
from refunddesk.calendars.countries import is_keepable
from refunddesk.calendars.date_lists import MAX_NAME
from refunddesk.calendars.models import DayKind

MAX_FILE_BYTES = 64 * 1024


class CountryForm(forms.Form):
    country = forms.CharField(
        label=_("Country code"), max_length=2, min_length=2,
        help_text=_("Two letters, ISO 3166: CN, US, DE, HK, SG …"))

    def clean_country(self) -> str:
        code: str = self.cleaned_data["country"].strip().upper()
        if not is_keepable(code):
            raise forms.ValidationError(
                _("%(code)s is not a country with a business calendar."), params={"code": code})
        return code


class DayForm(forms.Form):
    day = forms.DateField(label=_("Date"), input_formats=["%Y-%m-%d"],
                          widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("YYYY-MM-DD"))
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices,
                             widget=forms.RadioSelect, initial=DayKind.HOLIDAY)
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME, required=False,
                           help_text=_("Optional, e.g. 春节 or “Spring Festival”."))


class ImportForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"), min_value=FIRST_YEAR, max_value=LAST_YEAR,
        help_text=_("The year whose schedule this is. Importing replaces the days kept for "
                    "that year and marks it as entered."))
    text = forms.CharField(
        label=_("The list"), required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false",
                                     "placeholder": "2027-01-01 holiday 元旦\n"}),
        help_text=_("One date a line: YYYY-MM-DD holiday|workday [name]. Lines starting "
                    "with # are skipped."))
    file = forms.FileField(
        label=_("Or a file"), required=False,
        help_text=_("A UTF-8 text file in the same format, at most 64 KB."))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        text, upload = cleaned.get("text") or "", cleaned.get("file")
        if upload is not None:
            if text.strip():
                raise forms.ValidationError(_("Paste the list or upload a file, not both."))
            if upload.size > MAX_FILE_BYTES:
                self.add_error("file", _("The file is larger than 64 KB."))
                return cleaned
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
                return cleaned
        if not text.strip():
            raise forms.ValidationError(_("Paste the list or upload a file."))
        cleaned["text"] = text
        return cleaned
