"""Staff members in their roles, and the managed lists decisions use, for any test."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from refunddesk.cases.models import ApprovalLimit, RejectionReason
from refunddesk.core.staff import sync_role_permissions


def staff_member(username: str, *roles: str, password: str | None = None):
    """A staff user in the given role groups (created with their permissions by the
    migrations)."""
    if Group.objects.filter(name__in=roles).count() < len(set(roles)):
        # A transactional test's flush empties the tables the migrations filled.
        sync_role_permissions()
    user = get_user_model().objects.create_user(
        username, email=f"{username}@staff.example", password=password, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def approval_limit(role: str, currency: str, minor: int) -> ApprovalLimit:
    if not Group.objects.filter(name=role).exists():
        sync_role_permissions()
    return ApprovalLimit.objects.update_or_create(
        group=Group.objects.get(name=role), currency=currency,
        defaults={"limit_minor": minor})[0]


def rejection_reason(code: str = "not_eligible") -> RejectionReason:
    return RejectionReason.objects.get_or_create(
        code=code, defaults={"name_zh": "不符合退款条件", "name_en": "Not eligible"})[0]
