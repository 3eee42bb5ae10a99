"""The admin's API keys page: the keys with their scopes and last use, making one (its
secret shown once, on the answer to the form, never again), and revoking one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from refunddesk.api import keys
from refunddesk.api.models import ApiKey, Scope
from refunddesk.api.permissions import can_manage_keys
from refunddesk.console.access import console_view

admins = console_view(check=can_manage_keys,
                      message=gettext_lazy("API keys are managed by admins."))


class KeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What uses the key, e.g. “billing console "
                                                  "(production)”."))
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Give a key only what its system needs."))


def _page(request: HttpRequest, form: KeyForm, *, secret: str = "", made: ApiKey | None = None,
          status: int = 200) -> HttpResponse:
    response = render(request, "console/api_keys/list.html", {
        "form": form, "keys": ApiKey.objects.select_related("created_by"), "secret": secret,
        "made": made}, status=status)
    # The page may carry a secret: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@admins
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, KeyForm())
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    made, secret = keys.make_key(name=form.cleaned_data["name"],
                                 scopes=form.cleaned_data["scopes"], actor=request.user)
    return _page(request, KeyForm(), secret=secret, made=made)


@admins
@require_POST
def revoke_api_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=key_id)
    keys.revoke(key, actor=request.user)
    messages.success(request, _("The key %(name)s is revoked: requests with it are refused "
                                "from now on.") % {"name": key.name})
    return redirect("console:api_keys")


urls = [
    path("api-keys/", api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/revoke/", revoke_api_key, name="api_key_revoke"),
]
