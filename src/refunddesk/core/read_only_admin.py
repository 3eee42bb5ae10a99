"""Records the administration shows but never lets anyone add, change or delete there:
cases, payouts, deliveries, policy versions, role changes. Each changes only through its
actions (audited, checked), so the administration is a window, not a back door."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

_ModelT = TypeVar("_ModelT", bound=Model)
_ParentT = TypeVar("_ParentT", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_ModelT]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[_ModelT, _ParentT]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: _ParentT | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ParentT | None = None
                              ) -> bool:
        return False
