"""The system check that says so before a calendar runs out: `refunddesk check`, `refunddesk
demo` (make run) and every other command that runs Django's checks warn when the business
calendar of a country the desk's policies count business days on is known for less than
REFUNDDESK_CALENDAR_HORIZON_DAYS ahead — the reach of the deadlines counted on it.

The check reads the database (which policies the products use, what admins keep). Before
the database is migrated it has nothing to read and says nothing: `migrate` runs the
checks first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

from refunddesk.calendars.countries import calendars_in_use
from refunddesk.calendars.reading import calendar_for

RUNS_OUT = "calendars.W001"
UNKNOWN_NOW = "calendars.W002"


@dataclass(frozen=True)
class Shortfall:
    """A calendar in use that is not known as far ahead as deadlines may reach."""

    code: str
    policies: tuple[str, ...]
    known_through: date | None  # None: not even today is known
    needed_through: date


def shortfalls(now: datetime, horizon_days: int) -> list[Shortfall]:
    """The calendars in use known for less than `horizon_days` after `now`'s date."""
    today = timezone.localdate(now)
    needed = today + timedelta(days=horizon_days)
    found = []
    for code, policy_ids in sorted(calendars_in_use().items()):
        through = calendar_for(code).covered_through(today)
        if through is None or through < needed:
            found.append(Shortfall(code, tuple(policy_ids), through, needed))
    return found


def _message(shortfall: Shortfall) -> checks.Warning:
    policies = ", ".join(shortfall.policies)
    hint = (f"An admin enters the {shortfall.code} holidays and make-up working days of the "
            f"coming year in the console (Calendars → {shortfall.code} → Import a year's "
            "schedule); REFUNDDESK_CALENDAR_HORIZON_DAYS sets how far ahead this check looks.")
    if shortfall.known_through is None:
        return checks.Warning(
            f"The business calendar of {shortfall.code} has no data for today: deadlines "
            f"counted in business days (policies {policies}) are estimated by the weekday "
            "rule and flagged on their cases.", hint=hint, id=UNKNOWN_NOW)
    return checks.Warning(
        f"The business calendar of {shortfall.code} is known only until "
        f"{shortfall.known_through.isoformat()}, but deadlines counted in business days "
        f"(policies {policies}) can reach {shortfall.needed_through.isoformat()}: past that "
        "date holidays would be counted as working days, so such deadlines are flagged on "
        "their cases.", hint=hint, id=RUNS_OUT)


def calendars_cover_the_horizon(app_configs: Sequence[Any] | None = None,
                                **kwargs: Any) -> list[checks.CheckMessage]:
    """Registered in CalendarsConfig.ready."""
    try:
        found = shortfalls(timezone.now(), settings.REFUNDDESK_CALENDAR_HORIZON_DAYS)
    except DatabaseError:
        return []  # not migrated yet (or not reachable): nothing to read
    return [_message(shortfall) for shortfall in found]
