"""/track: a refund's status by tracking number and e-mail, without logging in.

An unknown number and a known number with the wrong e-mail get the same answer, so the page
cannot be used to find out which numbers exist; lookups are limited per IP address.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from refunddesk.cases.models import RefundCase
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.core.ratelimit import client_ip, is_limited
from refunddesk.payouts.presenting import customer_payouts
from refunddesk.recourse.texts import final_no

WINDOW_SECONDS = 600


class TrackForm(forms.Form):
    label_suffix = ""  # like the portal's other forms: no colon after a label
    number = forms.CharField(label=_("Tracking number"), max_length=20,
                             widget=forms.TextInput(attrs={"autocomplete": "off",
                                                           "placeholder": "XXXX-XXXX-XXX"}))
    email = forms.EmailField(label=_("E-mail address you applied with"))

    def clean_number(self) -> str:
        try:
            return normalise(self.cleaned_data["number"])
        except NotATrackingNumber:
            raise forms.ValidationError(
                _("This is not a tracking number: check each character (a tracking number "
                  "looks like K7QH-3M9T-XW4).")) from None


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    case = None
    not_found = False
    if request.method == "POST":
        if is_limited(f"track:{client_ip(request)}", limit=settings.TRACK_LOOKUPS_PER_IP,
                      window_seconds=WINDOW_SECONDS):
            return render(request, "portal/track.html",
                          {"form": TrackForm(request.POST), "limited": True}, status=429)
        form = TrackForm(request.POST)
        if form.is_valid():
            case = (RefundCase.objects.select_related("account")
                    .filter(tracking_number=form.cleaned_data["number"],
                            account__email__iexact=form.cleaned_data["email"]).first())
            not_found = case is None
    else:
        form = TrackForm(initial={"number": request.GET.get("number", "")})
    events = case.events.filter(is_customer_visible=True) if case else []
    # Only what is safe to show whoever holds the number and the address: the page shows
    # each payout's masked destination, amount, state and date, never why it went where.
    payouts = customer_payouts(case) if case else []
    return render(request, "portal/track.html",
                  {"form": form, "case": case, "events": events, "payouts": payouts,
                   "not_found": not_found,
                   "final_no": final_no(case, request.LANGUAGE_CODE) if case else None})
