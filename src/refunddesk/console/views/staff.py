"""The admin's staff page: who holds which role, changing another member's roles, and
the record of every change (who, when, from where, before and after)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_stubs_ext import StrOrPromise

from refunddesk.cases.errors import NotPermitted
from refunddesk.console.access import console_view
from refunddesk.core.models import RoleChangeSource, StaffRoleChange
from refunddesk.core.role_changes import can_change_roles, change_roles
from refunddesk.core.roles import roles_of
from refunddesk.core.staff import ROLES, role_label

admins = console_view(check=can_change_roles,
                      message=gettext_lazy("Staff roles are managed by admins."))

RECENT_CHANGES = 50


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Agents and reviewers decide refunds, finance pays them, "
                               "admins keep the desk running. Without a role, the person "
                               "cannot use the console."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = self.fields["roles"]
        assert isinstance(roles, forms.MultipleChoiceField)  # declared so above
        roles.choices = [(role, role_label(role)) for role in ROLES]


def _members(request: HttpRequest) -> list[tuple[Any, list[StrOrPromise]]]:
    users = (get_user_model().objects.filter(Q(is_staff=True) | Q(groups__name__in=ROLES))
             .prefetch_related("groups").distinct().order_by("username"))
    if not request.user.is_superuser:
        users = users.filter(is_superuser=False)
    return [(user, [role_label(role) for role in ROLES
                    if role in {group.name for group in user.groups.all()}])
            for user in users]


@admins
@require_http_methods(["GET"])
def staff(request: HttpRequest) -> HttpResponse:
    changes = [(change, [role_label(role) for role in change.roles_before],
                [role_label(role) for role in change.roles_after])
               for change in StaffRoleChange.objects.select_related(
                   "member", "changed_by")[:RECENT_CHANGES]]
    return render(request, "console/staff/list.html", {
        "members": _members(request), "changes": changes})


@admins
@require_http_methods(["GET", "POST"])
def staff_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    users = get_user_model().objects.all()
    if not request.user.is_superuser:
        users = users.filter(is_superuser=False)
    member = get_object_or_404(users, pk=user_id)
    is_own = member.pk == request.user.pk
    # An empty POST is a choice too: no roles at all.
    form = RolesForm(request.POST if request.method == "POST" else None,
                     initial={"roles": roles_of(member)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                change = change_roles(member, form.cleaned_data["roles"], actor=request.user,
                                      source=RoleChangeSource.CONSOLE)
            except NotPermitted as refusal:
                form.add_error(None, str(refusal))
            else:
                if change is None:
                    messages.info(request, _("Nothing changed: %(name)s already has these "
                                             "roles.") % {"name": member.get_username()})
                else:
                    messages.success(request, _("The roles of %(name)s are changed; the admins "
                                                "are told by e-mail.")
                                     % {"name": member.get_username()})
                return redirect("console:staff")
        status = 400
    return render(request, "console/staff/roles.html", {
        "member": member, "form": form, "is_own": is_own}, status=status)


urls = [
    path("staff/", staff, name="staff"),
    path("staff/<int:user_id>/roles/", staff_roles, name="staff_roles"),
]
