"""The admin's webhook pages: the endpoints and adding one; one endpoint with its secret
(rolled after a confirmation), what it receives, disabling and enabling it, and its
deliveries; one delivery with its payload and attempts, sent again by hand after a
confirmation.

The views decide who sees the pages; the webhook functions check the role again and
decide what may change (notifications/webhook_endpoints.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from refunddesk.console.access import console_view
from refunddesk.notifications import webhook_endpoints
from refunddesk.notifications.models import (
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from refunddesk.notifications.permissions import can_manage_webhooks
from refunddesk.notifications.webhook_endpoints import WebhookError
from refunddesk.notifications.webhook_sending import REFUSED

DELIVERIES_PER_PAGE = 25

admins = console_view(check=can_manage_webhooks,
                      message=gettext_lazy("Webhooks are managed by admins."))


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"), max_length=2000,
        help_text=gettext_lazy("Where your system receives the events, e.g. "
                               "https://billing.example.com/refunddesk/webhooks."))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200,
                                  required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The endpoint receives only the events chosen here."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        events = self.fields["events"]
        assert isinstance(events, forms.MultipleChoiceField)  # declared so above
        # The type as the receiver sees it beside what it means.
        events.choices = [(value, f"{label} ({value})") for value, label in WebhookEvent.choices]

    def clean_url(self) -> str:
        try:
            return webhook_endpoints.check_url(self.cleaned_data["url"])
        except WebhookError as error:
            raise forms.ValidationError(error.message) from None

    def clean_events(self) -> list[str]:
        try:
            return webhook_endpoints.check_events(self.cleaned_data["events"])
        except WebhookError as error:
            raise forms.ValidationError(error.message) from None


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)  # declared so above
        state.choices = [("", _("Any state")), *DeliveryState.choices]


def no_store(response: HttpResponse) -> HttpResponse:
    # The endpoint page shows the signing secret: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


def event_labels(events: list[str]) -> list[str]:
    return [str(WebhookEvent(value).label) if value in WebhookEvent.values else value
            for value in events]


# -- the endpoints --------------------------------------------------------------------------

@admins
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        endpoint = webhook_endpoints.add_endpoint(
            url=form.cleaned_data["url"], events=form.cleaned_data["events"],
            description=form.cleaned_data["description"], actor=request.user)
        messages.success(request, _("The endpoint is added. Give its signing secret to the "
                                    "system that receives the events."))
        return redirect("console:webhook", endpoint_id=endpoint.pk)
    endpoints = WebhookEndpoint.objects.select_related("created_by")
    return render(request, "console/webhooks/list.html", {
        "form": form, "endpoints": endpoints},
        status=400 if form.is_bound else 200)


def _endpoint_page(request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm, *,
                   status: int = 200) -> HttpResponse:
    filters = DeliveryFilterForm(request.GET)
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")
    if filters.is_valid():
        state = filters.cleaned_data["state"]
        if state:
            deliveries = deliveries.filter(state=state)
    else:
        deliveries = deliveries.none()
        status = 400
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    state = filters.cleaned_data.get("state", "") if filters.is_valid() else ""
    return no_store(render(request, "console/webhooks/endpoint.html", {
        "endpoint": endpoint, "form": form, "filters": filters, "page": page,
        "events": event_labels(endpoint.events), "state": state,
        "query": urlencode({"state": state}) if state else ""}, status=status))


@admins
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("created_by"),
                                 pk=endpoint_id)
    if request.method != "POST":
        return _endpoint_page(request, endpoint, EndpointForm(initial={
            "url": endpoint.url, "description": endpoint.description,
            "events": endpoint.events}))
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _endpoint_page(request, endpoint, form, status=400)
    webhook_endpoints.change_endpoint(
        endpoint, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
        description=form.cleaned_data["description"], actor=request.user)
    messages.success(request, _("The endpoint is saved."))
    return redirect("console:webhook", endpoint_id=endpoint.pk)


def _confirm(request: HttpRequest, **context: Any) -> HttpResponse:
    return no_store(render(request, "console/webhooks/confirm.html", context))


@admins
@require_http_methods(["GET", "POST"])
def roll_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method != "POST":
        return _confirm(request, endpoint=endpoint, title=_("Roll the signing secret"),
                        explanation=_("A new secret signs every delivery from now on, "
                                      "retries included. The old secret stops working at "
                                      "once: deliveries fail their signature check until "
                                      "the receiving system has the new one."),
                        button=_("Roll the secret"), is_danger=True)
    webhook_endpoints.roll_secret(endpoint, actor=request.user)
    messages.success(request, _("The signing secret is rolled. Give the new one to the "
                                "receiving system."))
    return redirect("console:webhook", endpoint_id=endpoint.pk)


@admins
@require_http_methods(["GET", "POST"])
def disable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method != "POST":
        return _confirm(request, endpoint=endpoint, title=_("Disable the endpoint"),
                        explanation=_("No new events are sent to it, and deliveries still "
                                      "being tried give up at their next attempt. You can "
                                      "enable it again and send those deliveries by hand."),
                        button=_("Disable"), is_danger=True)
    webhook_endpoints.set_active(endpoint, is_active=False, actor=request.user)
    messages.success(request, _("The endpoint is disabled."))
    return redirect("console:webhook", endpoint_id=endpoint.pk)


@admins
@require_POST
def enable(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    webhook_endpoints.set_active(endpoint, is_active=True, actor=request.user)
    messages.success(request, _("The endpoint is enabled: it receives new events again."))
    return redirect("console:webhook", endpoint_id=endpoint.pk)


# -- one delivery ---------------------------------------------------------------------------

def pretty(payload: str) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload


def can_redeliver(delivery: WebhookDelivery) -> bool:
    return delivery.state != DeliveryState.PENDING and delivery.endpoint.is_active


@admins
@require_safe
def webhook_delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"),
                                 pk=delivery_id)
    return render(request, "console/webhooks/delivery.html", {
        "delivery": delivery, "endpoint": delivery.endpoint,
        "payload": pretty(delivery.payload), "can_redeliver": can_redeliver(delivery),
        "attempts": delivery.attempt_log.select_related("sent_by").order_by("-at", "-id")})


@admins
@require_http_methods(["GET", "POST"])
def redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"),
                                 pk=delivery_id)
    if request.method != "POST":
        return _confirm(request, endpoint=delivery.endpoint, delivery=delivery,
                        title=_("Send the event again"),
                        explanation=_("The same event (same id and body) is sent to the "
                                      "endpoint now, with a fresh signature. Receivers that "
                                      "remember event ids ignore what they already have."),
                        button=_("Send again"), is_danger=False,
                        problem="" if can_redeliver(delivery) else _redeliver_problem(delivery))
    try:
        attempt = webhook_endpoints.redeliver(delivery, actor=request.user)
    except WebhookError as error:
        messages.error(request, str(error.message))
        return redirect("console:webhook_delivery", delivery_id=delivery.pk)
    if attempt.is_success:
        messages.success(request, _("Sent again: the endpoint answered HTTP %(status)s.")
                         % {"status": attempt.status_code})
    elif attempt.error.startswith(REFUSED):
        # The address check stopped it (notifications/webhook_addresses.py): nothing left.
        messages.error(request, _("Not sent: %(error)s") % {"error": attempt.error})
    else:
        messages.error(request, _("Sent again, but it failed: %(error)s")
                       % {"error": attempt.error})
    return redirect("console:webhook_delivery", delivery_id=delivery.pk)


def _redeliver_problem(delivery: WebhookDelivery) -> str:
    if delivery.state == DeliveryState.PENDING:
        return _("This delivery is still being tried on its schedule; it can be sent again "
                 "by hand once it has succeeded or been given up.")
    return _("The endpoint is disabled: enable it before sending to it again.")


urls = [
    path("webhooks/", webhooks, name="webhooks"),
    path("webhooks/<int:endpoint_id>/", webhook, name="webhook"),
    path("webhooks/<int:endpoint_id>/roll-secret/", roll_secret, name="webhook_roll_secret"),
    path("webhooks/<int:endpoint_id>/disable/", disable, name="webhook_disable"),
    path("webhooks/<int:endpoint_id>/enable/", enable, name="webhook_enable"),
    path("webhooks/deliveries/<int:delivery_id>/", webhook_delivery,
         name="webhook_delivery"),
    path("webhooks/deliveries/<int:delivery_id>/redeliver/", redeliver,
         name="webhook_redeliver"),
]
