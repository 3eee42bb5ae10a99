"""Staff roles. Each role is a Django group; what each may do is decided in later apps'
permissions, never in templates. The demo creates one user per role."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

ROLES = ("agent", "reviewer", "finance", "admin")


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    is_new: bool


def ensure_role_groups() -> dict[str, Group]:
    return {role: Group.objects.get_or_create(name=role)[0] for role in ROLES}


@transaction.atomic
def ensure_demo_staff() -> list[DemoLogin]:
    """One user per role. Passwords are set only when the user is created, so a password
    changed after the first start stays changed."""
    groups = ensure_role_groups()
    user_model = get_user_model()
    logins = []
    for role in ROLES:
        username = f"demo-{role}"
        password = f"{role}-demo-2026"
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"email": f"{role}@demo.refunddesk.example", "is_staff": True,
                      "is_superuser": role == "admin"},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(groups[role])
        logins.append(DemoLogin(role, username, password, created))
    return logins
