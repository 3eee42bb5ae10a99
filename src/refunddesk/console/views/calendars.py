"""The admin's business calendars page: per country, how far the calendar is known, the
holidays and make-up working days admins keep over the packaged data, adding and removing
one, importing a year's schedule (a list checked line by line, previewed, then confirmed),
and the last changes. Every change goes through refunddesk.calendars.actions, which checks
the role again and records who changed what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refunddesk.calendars import actions
from refunddesk.calendars.actions import CalendarError
from refunddesk.calendars.countries import is_keepable
from refunddesk.calendars.date_lists import parse_date_list
from refunddesk.calendars.forms import CountryForm, DayForm, ImportForm
from refunddesk.calendars.models import CalendarDay
from refunddesk.calendars.overview import all_summaries, recent_changes, summary
from refunddesk.calendars.permissions import can_keep
from refunddesk.console.access import console_view

admins = console_view(check=can_keep,
                      message=gettext_lazy("The business calendars are kept by admins."))


def _country(country: str) -> str:
    if not is_keepable(country):
        raise Http404(_("No business calendar for %(code)s.") % {"code": country})
    return country


@admins
@require_GET
def calendars(request: HttpRequest) -> HttpResponse:
    form = CountryForm(request.GET if "country" in request.GET else None)
    if form.is_bound and form.is_valid():
        return redirect("console:calendar_country", form.cleaned_data["country"])
    return render(request, "console/calendars/list.html", {
        "countries": all_summaries(), "form": form},
        status=400 if form.is_bound else 200)


def _country_page(request: HttpRequest, country: str, *, form: DayForm | None = None,
                  status: int = 200) -> HttpResponse:
    return render(request, "console/calendars/country.html", {
        "country": summary(country),
        "days": CalendarDay.objects.filter(country=country).order_by("day"),
        "form": form or DayForm(), "changes": recent_changes(country)}, status=status)


@admins
@require_GET
def calendar_country(request: HttpRequest, country: str) -> HttpResponse:
    return _country_page(request, _country(country))


@admins
@require_POST
def calendar_day_add(request: HttpRequest, country: str) -> HttpResponse:
    country = _country(country)
    form = DayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_day(country, data["day"], data["kind"], data["name"],
                            actor=request.user)
        except CalendarError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("%(day)s is kept in the calendar of %(code)s.")
                             % {"day": data["day"].isoformat(), "code": country})
            return redirect("console:calendar_country", country)
    return _country_page(request, country, form=form, status=400)


@admins
@require_POST
def calendar_day_remove(request: HttpRequest, country: str, day_id: int) -> HttpResponse:
    country = _country(country)
    try:
        removed = actions.remove_day(country, day_id, actor=request.user)
    except CalendarError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(day)s is no longer kept; the packaged calendar decides "
                                    "it again.") % {"day": removed.day.isoformat()})
    return redirect("console:calendar_country", country)


@admins
@require_POST
def calendar_year_withdraw(request: HttpRequest, country: str, year: int) -> HttpResponse:
    country = _country(country)
    try:
        actions.withdraw_year(country, year, actor=request.user)
    except CalendarError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(year)s is no longer marked as entered: deadlines "
                                    "counted into it are flagged again.") % {"year": year})
    return redirect("console:calendar_country", country)


def _import_page(request: HttpRequest, country: str, form: ImportForm, *,
                 status: int = 200, **context: Any) -> HttpResponse:
    return render(request, "console/calendars/import.html", {
        "country": summary(country), "form": form, **context}, status=status)


@admins
@require_http_methods(["GET", "POST"])
def calendar_import(request: HttpRequest, country: str) -> HttpResponse:
    """GET: the form. POST "preview": the list checked line by line and what importing it
    would change; nothing is written. POST "confirm": the same list imported."""
    country = _country(country)
    if request.method != "POST":
        return _import_page(request, country, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, country, form, status=400)
    year, text = form.cleaned_data["year"], form.cleaned_data["text"]
    parsed = parse_date_list(text, year=year)
    if not parsed.is_valid:
        return _import_page(request, country, form, status=400, parsed=parsed)
    try:
        if request.POST.get("step") == "confirm":
            plan = actions.import_year(country, year, parsed.days, actor=request.user)
        else:
            plan = actions.plan_import(country, year, parsed.days)
            return _import_page(request, country, ImportForm(initial={"year": year}),
                                plan=plan, text=text, year=year)
    except CalendarError as refusal:
        form.add_error(None, str(refusal))
        return _import_page(request, country, form, status=400)
    messages.success(request, _(
        "The %(year)s schedule of %(code)s is imported: %(added)s added, %(changed)s changed, "
        "%(removed)s removed. The calendar counts as known for %(year)s.") % {
        "year": year, "code": country, "added": len(plan.added),
        "changed": len(plan.changed), "removed": len(plan.removed)})
    return redirect("console:calendar_country", country)


urls = [
    path("calendars/", calendars, name="calendars"),
    path("calendars/<str:country>/", calendar_country, name="calendar_country"),
    path("calendars/<str:country>/days/", calendar_day_add, name="calendar_day_add"),
    path("calendars/<str:country>/days/<int:day_id>/remove/", calendar_day_remove,
         name="calendar_day_remove"),
    path("calendars/<str:country>/import/", calendar_import, name="calendar_import"),
    path("calendars/<str:country>/years/<int:year>/withdraw/", calendar_year_withdraw,
         name="calendar_year_withdraw"),
]
