"""Example entries for the demo's calendars page — examples, not the official schedule.

chinesecalendar knows mainland China up to the last schedule the State Council published
when it was released (2026 here). The demo does not invent the next year's official
schedule (its bridging days and make-up working days are decided each year): it keeps a
few of the statutory days of 2027 (New Year's Day, the Spring Festival days from its eve,
as the holiday rules fix them), each named as an example, and does not mark 2027 as
entered. So the system check still warns and deadlines counted into 2027 are still
flagged, until an admin imports the real schedule (docs/console.md).
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User

from refunddesk.calendars.actions import add_day
from refunddesk.calendars.models import CalendarChange, DayKind

EXAMPLE = "示例 Example, not the official schedule: "

DEMO_DAYS = (
    (date(2027, 1, 1), "元旦 New Year's Day"),
    (date(2027, 2, 5), "除夕 Spring Festival eve"),
    (date(2027, 2, 6), "春节 Spring Festival"),
    (date(2027, 2, 7), "春节 Spring Festival"),
    (date(2027, 2, 8), "春节 Spring Festival"),
)


def ensure_demo_calendar(admin: User) -> int:
    """Keep the example days for CN, by `admin`, on a first start only (never again once
    anything was changed, so an admin's removals stay removed). Returns how many."""
    if CalendarChange.objects.exists():
        return 0
    for day, name in DEMO_DAYS:
        add_day("CN", day, DayKind.HOLIDAY, EXAMPLE + name, actor=admin)
    return len(DEMO_DAYS)
