"""Which countries have a calendar to keep, what they are called, and which ones the desk's
policies use."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from django.utils import translation

from refunddesk.policy.business_days import business_calendar
from refunddesk.policy.schema import Policy, PolicyError


def is_keepable(code: str) -> bool:
    """True for a country code with a business calendar ("CN", "US", …), which admins may
    amend; "none" (the plain weekday rule) is no country."""
    if code == "none":
        return False
    try:
        business_calendar(code)
    except ValueError:
        return False
    return True


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in the viewer's language ("中国", "China"), or the code itself."""
    language = language or translation.get_language() or "en"
    try:
        locale = Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    return str(locale.territories.get(code, code))


def uses_business_days(policy: Policy) -> bool:
    """Whether any deadline of the policy is counted in business days."""
    durations = [policy.sla.first_response, policy.sla.review, *policy.sla.payout.values()]
    return any(duration is not None and duration.unit == "bd" for duration in durations)


def policies_in_use() -> list[Policy]:
    """The version in force now of every policy a product uses (a product without a policy,
    or one naming a policy that no longer exists, adds nothing)."""
    from django.utils import timezone

    from refunddesk.billing.models import Product
    from refunddesk.policies.store import current_policy

    now = timezone.now()
    found = []
    ids = (Product.objects.exclude(policy_id="").order_by("policy_id")
           .values_list("policy_id", flat=True).distinct())
    for policy_id in ids:
        try:
            found.append(current_policy(policy_id, at=now))
        except PolicyError:
            continue
    return found


def calendars_in_use() -> dict[str, list[str]]:
    """Calendar code → the ids of the policies in use that count business days on it."""
    used: dict[str, list[str]] = {}
    for policy in policies_in_use():
        if uses_business_days(policy):
            used.setdefault(policy.calendar, []).append(policy.id)
    return used
