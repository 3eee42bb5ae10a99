"""Billing-period arithmetic on the storefront's wall clock.

A month is a calendar month and a year twelve of them, the day clamped to the end of a
shorter month (31 Jan + 1 month = 28 Feb), as billing systems do. The arithmetic is done
in the order's own time zone: "one month after 05:00 on 31 January in Shanghai" is a
different instant from the same sum done in UTC.
"""

from __future__ import annotations

import calendar
import random
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def zone_for(currency: str) -> tzinfo:
    # The cloud storefront bills in China; the VPN storefront sells worldwide in UTC.
    return SHANGHAI if currency == "CNY" else UTC


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(start: datetime, unit: str, count: int) -> datetime:
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "month":
        return add_months(start, count)
    if unit == "year":
        return add_months(start, 12 * count)
    raise ValueError(f"unknown term unit {unit!r}")


def between(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    """A moment in [earliest, latest], whole seconds."""
    span = int((latest - earliest).total_seconds())
    if span < 0:
        raise ValueError(f"empty interval: {earliest} .. {latest}")
    return earliest + timedelta(seconds=rng.randint(0, span))


def waking_moment(rng: random.Random, earliest: datetime, latest: datetime,
                  zone: tzinfo) -> datetime:
    """Like `between`, but people rarely shop between 01:00 and 07:00 local time."""
    moment = between(rng, earliest, latest).astimezone(zone)
    if 1 <= moment.hour < 7 and rng.random() < 0.85:
        later = moment + timedelta(hours=8)
        if later <= latest:
            return later
    return moment


def seconds(value: int) -> timedelta:
    return timedelta(seconds=value)
