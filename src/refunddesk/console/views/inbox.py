"""The staff member's inbox: what needs them (inbox/telling.py writes it), each notice
opening its case or payout and read once opened; and their e-mail preference."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from refunddesk.console.access import staff_member, staff_required
from refunddesk.inbox.models import Preference
from refunddesk.inbox.presenting import describe, target
from refunddesk.inbox.reading import mark_all_read, mark_read, notices_of, unread_count

NOTICES_PER_PAGE = 25


class PreferenceForm(forms.ModelForm[Preference]):
    class Meta:
        model = Preference
        fields = ["email", "language"]
        widgets = {"email": forms.RadioSelect}
        labels = {"email": gettext_lazy("E-mail me my notices")}
        help_texts = {"language": gettext_lazy("The console itself follows your browser "
                                               "or the language switch.")}


@staff_required
@require_http_methods(["GET"])
def inbox(request: HttpRequest) -> HttpResponse:
    is_unread_only = request.GET.get("show") == "unread"
    page = Paginator(notices_of(request.user, is_unread_only=is_unread_only),
                     NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/inbox/list.html", {
        "page": page, "is_unread_only": is_unread_only,
        "notices": [(notice, describe(notice)) for notice in page.object_list],
        "unread": unread_count(request.user)})


@staff_required
@require_http_methods(["GET"])
def inbox_open(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Open a notice: it is read from now on, and leads to its case (or payout). Only the
    recipient's own notices exist here."""
    notice = get_object_or_404(notices_of(request.user), pk=notice_id)
    mark_read(notice, now=timezone.now())
    return redirect(target(notice))


@staff_required
@require_http_methods(["POST"])
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    marked = mark_all_read(request.user, now=timezone.now())
    if marked:
        messages.success(request, _("Every notice is marked read."))
    return redirect("console:inbox")


@staff_required
@require_http_methods(["GET", "POST"])
def inbox_preferences(request: HttpRequest) -> HttpResponse:
    user = staff_member(request)
    preference = Preference.objects.filter(user=user).first() or Preference(user=user)
    form = PreferenceForm(request.POST if request.method == "POST" else None,
                          instance=preference)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your e-mail preference is saved."))
            return redirect("console:inbox_preferences")
        return render(request, "console/inbox/preferences.html", {"form": form}, status=400)
    return render(request, "console/inbox/preferences.html", {"form": form})


urls = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/read-all", inbox_read_all, name="inbox_read_all"),
    path("inbox/preferences", inbox_preferences, name="inbox_preferences"),
    path("inbox/<int:notice_id>/", inbox_open, name="inbox_open"),
]
