"""A policy version prepared for the engine, once per version: what every assessment reads
of it, in plain values.

A policy is a tree of validated, frozen models. The engine reads a rule's settings for
every line of every assessment, and a model's attribute costs several times a plain
tuple's; the conditions of a rule are ten optional fields of which most policies set one or
two. So each version is prepared once: its rules as named tuples with the same attribute
names, their conditions as the few (name, values) pairs they set, and where each kind of
payment is refunded to, as payments ask.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from refunddesk.policy.routing import Route, route_of
from refunddesk.policy.schema import (
    AmountCap,
    Conditions,
    Consumption,
    Fee,
    HourlyTier,
    Penalty,
    Policy,
    Quota,
    Window,
)

# The conditions in the order they are checked (and the first unmet one is named).
CONDITIONS = ("kind", "channel", "billing", "category", "product", "flags_any", "flags_none",
              "invoiced", "started", "first_purchase")
# The conditions a `when` sets, in checking order, their lists made sets.
Checks = tuple[tuple[str, Any], ...]


class PreparedConsumption(NamedTuple):
    method: str
    unit: str
    minimum: int
    rounding: str
    base: str
    metric: str | None
    unit_price: dict[str, int] | None
    hourly_price: dict[str, int] | None
    hourly_tiers: list[HourlyTier]


class PreparedRule(NamedTuple):
    id: str
    checks: Checks
    condition_values: dict[str, str]  # condition → its values as a step shows them
    window: Window | None
    quota: Quota | None
    cap: AmountCap | None
    funding: tuple[str, ...]
    funding_text: str  # "cash, balance, gift"
    consumption: PreparedConsumption
    penalty: Penalty | None
    fee: Fee | None
    handling: str
    documents: tuple[str, ...]


class PreparedPolicy(NamedTuple):
    policy: Policy
    ref: str
    tz: ZoneInfo
    exclusions: tuple[tuple[str, Checks], ...]  # (reason, checks)
    rules: tuple[PreparedRule, ...]
    four_eyes_above: dict[str, int] | None
    routes: dict[tuple[str, str, bool], Route]  # filled as payments ask

    def route(self, method: str, funding: str, invoiced: bool) -> Route:
        """Where a payment's refund goes (routing.route_of), once per kind of payment."""
        key = (method, funding, invoiced)
        route = self.routes.get(key)
        if route is None:
            route = self.routes[key] = route_of(self.policy.destination, method=method,
                                                funding=funding, invoiced=invoiced)
        return route


# Policy versions never change once made (frozen models, each parsed once by the presets
# and the policy store), so each is prepared once; kept with its policy, whose id cannot be
# reused meanwhile.
_prepared: dict[int, tuple[Policy, PreparedPolicy]] = {}


def prepared(policy: Policy) -> PreparedPolicy:
    known = _prepared.get(id(policy))
    if known is not None and known[0] is policy:
        return known[1]
    if len(_prepared) > 256:  # policies parsed over and over (tests, the policy lab)
        _prepared.clear()
    ready = PreparedPolicy(
        policy, policy.ref, zone(policy.time_zone),
        tuple((exclusion.reason, checks(exclusion.when)) for exclusion in policy.exclusions),
        tuple(
            PreparedRule(
                rule.id, checks(rule.when),
                {name: condition_values(rule.when, name) for name, _ in checks(rule.when)},
                rule.window, rule.quota, rule.cap, tuple(rule.funding), ", ".join(rule.funding),
                _consumption(rule.consumption), rule.penalty, rule.fee, rule.handling,
                tuple(rule.documents))
            for rule in policy.rules),
        policy.four_eyes_above, {})
    _prepared[id(policy)] = (policy, ready)
    return ready


def _consumption(settings: Consumption) -> PreparedConsumption:
    return PreparedConsumption(settings.method, settings.unit, settings.minimum,
                               settings.rounding, settings.base, settings.metric,
                               settings.unit_price, settings.hourly_price,
                               settings.hourly_tiers)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def checks(when: Conditions) -> Checks:
    return tuple((name, frozenset(value) if isinstance(value, list) else value)
                 for name in CONDITIONS if (value := getattr(when, name)) is not None)


def condition_values(when: Conditions, condition: str) -> str:
    value = getattr(when, condition)
    if isinstance(value, list):
        return ",".join(value)
    return "true" if value else "false"
