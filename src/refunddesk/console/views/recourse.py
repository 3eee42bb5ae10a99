"""The admin's page of the texts a customer reads after a final "no" (where they may turn
next), per country and language; every change is recorded and listed here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from refunddesk.console.access import console_view
from refunddesk.recourse.editing import RecourseError, country_name, save_text
from refunddesk.recourse.models import (
    DEFAULT_COUNTRY,
    TEXT_MAX,
    Language,
    RecourseText,
    RecourseTextChange,
)
from refunddesk.recourse.permissions import can_edit

admins = console_view(check=can_edit, message=gettext_lazy(
    "The texts shown after a final decision are kept by admins."))

RECENT_CHANGES = 50


class RecourseTextForm(forms.Form):
    country = forms.CharField(
        label=gettext_lazy("Country"), max_length=7,
        help_text=gettext_lazy("Its two-letter code (ISO 3166), such as CN, or “default” "
                               "for every country without a text of its own."))
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    text = forms.CharField(
        label=gettext_lazy("Where the customer may turn"), required=False, max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown on the case page, on /track and in the closing e-mail "
                               "once a refund is finally refused. Web addresses become links. "
                               "Leave it empty to remove this entry."))


def _entries(language: str) -> list[tuple[RecourseText, str]]:
    return [(entry, country_name(entry.country, language))
            for entry in RecourseText.objects.select_related("updated_by")]


@admins
@require_http_methods(["GET", "POST"])
def recourse_texts(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = RecourseTextForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = save_text(country=data["country"], language=data["language"],
                                   text=data["text"], actor=request.user)
            except RecourseError as refusal:
                form.add_error(refusal.field or None, str(refusal.message))
            else:
                if change is None:
                    messages.info(request, _("Nothing changed: the text is already this."))
                elif not change.text_after:
                    messages.success(request, _("The text for %(country)s in %(language)s is "
                                                "removed.") % _named(change))
                else:
                    messages.success(request, _("The text for %(country)s in %(language)s is "
                                                "saved.") % _named(change))
                return redirect("console:recourse_texts")
        status = 400
    else:
        form = RecourseTextForm(initial=_editing(request))
    changes = RecourseTextChange.objects.select_related("changed_by")[:RECENT_CHANGES]
    return render(request, "console/recourse/texts.html", {
        "form": form, "entries": _entries(request.LANGUAGE_CODE),
        "changes": [(change, country_name(change.country, request.LANGUAGE_CODE))
                    for change in changes],
        "default_country": DEFAULT_COUNTRY}, status=status)


def _editing(request: HttpRequest) -> dict[str, Any]:
    """The form filled with the entry the admin chose to edit (?country=…&language=…)."""
    country = request.GET.get("country", "")
    language = request.GET.get("language", "")
    entry = RecourseText.objects.filter(country=country, language=language).first()
    if entry is None:
        return {"language": language} if language in Language.values else {}
    return {"country": entry.country, "language": entry.language, "text": entry.text}


def _named(change: RecourseTextChange) -> dict[str, str]:
    return {"country": country_name(change.country, get_language() or "en"),
            "language": str(Language(change.language).label)}


urls = [
    path("after-final-decision/", recourse_texts, name="recourse_texts"),
]
