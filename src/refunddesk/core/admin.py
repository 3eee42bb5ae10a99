"""Users and roles in the administration, held to the separation of duties.

Django's own user admin lets anyone with "change user" tick *Superuser status* or add any
group — on themselves too — so the admin role could make itself finance or a superuser.
Here only a superuser sees staff status and roles (superuser status is shown, never
edited: superusers are made on the command line only, `refunddesk createsuperuser`);
raw permissions are not offered at all (powers come from roles); nobody changes their own;
an admin changes customers' accounts only — a staff member's e-mail, password or active
flag would let them silence or impersonate a colleague; roles change through
core/role_changes.py (audited, the watchers e-mailed); the role groups' permissions are
the role table's (core/staff.py), not editable here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import ManyToManyField, QuerySet
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.core.models import RoleChangeSource, StaffRoleChange
from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.core.role_changes import change_roles
from refunddesk.core.roles import roles_of
from refunddesk.core.staff import ROLES

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts, _FieldsetSpec

# What the fields of Django's user admin are, for deciding who sees which.
ACCOUNT_FIELDS = ("username", "password", "first_name", "last_name", "email", "is_active",
                  "last_login", "date_joined")
SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "groups")


class StaffUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups")

    def _is_own(self, request: HttpRequest, obj: User | None) -> bool:
        return obj is not None and obj.pk == request.user.pk

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> _FieldsetSpec:
        if obj is None:
            add_fieldsets: _FieldsetSpec = self.add_fieldsets
            return add_fieldsets  # user name and password; nothing else
        fieldsets: list[tuple[StrOrPromise | None, _FieldOpts]] = [
            (None, {"fields": ("username", "password")}),
            (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
            (_("Status"), {"fields": ("is_active",)}),
            (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        ]
        if request.user.is_superuser:
            fieldsets.insert(3, (_("Roles and powers"), {
                "fields": SUPERUSER_ONLY_FIELDS,
                "description": _("Roles give what a staff member may do; superuser status "
                                 "gives the administration, not the right to decide or "
                                 "pay refunds."),
            }))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        # Superusers are made on the command line only (`refunddesk createsuperuser`).
        readonly = ["last_login", "date_joined", "is_superuser"]
        if self._is_own(request, obj):
            # Nobody changes their own roles or powers, nor switches themselves off.
            readonly += ["is_active", *SUPERUSER_ONLY_FIELDS]
        return readonly

    def formfield_for_manytomany(self, db_field: ManyToManyField[Any, Any],
                                 request: HttpRequest, **kwargs: Any
                                 ) -> ModelMultipleChoiceField[Any] | None:
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.filter(name__in=ROLES).order_by("name")
            kwargs["help_text"] = _("The staff member's roles.")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request)
        # An admin who could change a superuser's password or e-mail could become them.
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if (obj is not None and not request.user.is_superuser and not self._is_own(request, obj)
                and _is_staff_member(obj)):
            return False  # an admin takes a colleague's roles away on the Staff page
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # People leave by being made inactive: their decisions keep their names.
        return bool(request.user.is_superuser and not self._is_own(request, obj))

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm[User],
                   change: bool) -> None:
        if not request.user.is_superuser:
            # Whatever was posted, these stay as they were (or off, for a new user).
            saved = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
            obj.is_superuser = saved.is_superuser if saved else False
            obj.is_staff = saved.is_staff if saved else False
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm[User],
                     formsets: list[forms.BaseModelFormSet[Any, Any]], change: bool) -> None:
        # Roles change through the one audited way, not by the form's own m2m save.
        wanted = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if wanted is None or not request.user.is_superuser:
            return
        member = form.instance
        roles = [group.name for group in wanted if group.name in ROLES]
        if roles != roles_of(member):
            change_roles(member, roles, actor=request.user, source=RoleChangeSource.ADMIN)


def _is_staff_member(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser or roles_of(user))


class SuperuserGroupAdmin(GroupAdmin):
    """What a role may do is the role table's (core/staff.py); groups are for superusers,
    and the role groups cannot be renamed, re-permitted or deleted here."""

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> list[str]:
        if obj is not None and obj.name in ROLES:
            return ["name", "permissions"]
        return []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return bool(request.user.is_superuser and (obj is None or obj.name not in ROLES))


@admin.register(StaffRoleChange)
class StaffRoleChangeAdmin(ReadOnlyAdmin[StaffRoleChange]):
    list_display = ("at", "member", "changed_by", "source", "roles_before", "roles_after")
    list_filter = ("source",)
    list_select_related = ("member", "changed_by")
    readonly_fields = ("at", "member", "changed_by", "source", "roles_before", "roles_after")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: StaffRoleChange | None = None
                            ) -> bool:
        return bool(request.user.is_superuser)


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, StaffUserAdmin)
admin.site.register(Group, SuperuserGroupAdmin)
