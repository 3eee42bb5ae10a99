"""From an order in the billing mirror to an assessment: the facts with the account's refund
history, and the policy of the product."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from refunddesk.billing.facts import order_facts
from refunddesk.billing.models import Order, OrderLine, Product
from refunddesk.billing.order_records import OrderRecord, record_of
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.states import State
from refunddesk.core.statements import column, fetch, moment, table
from refunddesk.policies.store import current_policy
from refunddesk.policy.assessment import Assessment, AssessmentError
from refunddesk.policy.engine import assess
from refunddesk.policy.facts import OrderFacts, RefundHistory
from refunddesk.policy.schema import Policy

# Refunds that count as "already refunded" for quotas and caps: decided in the customer's
# favour, whether or not the money has arrived yet.
GRANTED_STATES = (State.APPROVED, State.PAYING, State.PAYOUT_FAILED, State.REFUNDED)


class NoPolicy(ValueError):
    """The lines are not under one refund policy."""


class LinesWithoutPolicy(NoPolicy):
    """Some lines are under no refund policy at all: nothing can assess them."""

    def __init__(self, line_ids: Sequence[str]):
        self.line_ids = list(line_ids)
        super().__init__(", ".join(self.line_ids))


@dataclass(frozen=True)
class PolicyGroup:
    """Chosen lines of one order that fall under one refund policy: what one case is
    opened for."""

    policy_id: str
    line_ids: tuple[str, ...]


def policy_id_for(lines: Iterable[OrderLine]) -> str:
    """The id of the one refund policy of the lines' products; lines under different
    policies are grouped first (policy_groups), one case per group."""
    policy_ids = {line.product.policy_id for line in lines}
    if len(policy_ids) != 1 or "" in policy_ids:
        raise NoPolicy(sorted(policy_ids))
    return policy_ids.pop()


def chosen_lines(record: OrderRecord, line_ids: Sequence[str]) -> list[OrderLine]:
    """The order's lines with these ids, in the order's own order; AssessmentError naming
    the ids the order does not have, or when none is chosen."""
    known = record.line_ids()
    unknown = sorted(set(line_ids) - set(known))
    if unknown or not line_ids:
        raise AssessmentError(f"lines: no line {', '.join(unknown)} in order "
                              f"{record.order.external_id} (it has {', '.join(known)})"
                              if unknown else "lines: choose at least one line")
    return [line for line in record.lines if line.line_id in line_ids]


def policy_groups(order: Order | OrderRecord, line_ids: Sequence[str]) -> list[PolicyGroup]:
    """The chosen lines by refund policy, in the order's line order (the group of the
    earliest line first). Lines under no policy are refused together (LinesWithoutPolicy):
    nothing may be opened for part of a choice without saying so."""
    lines = chosen_lines(record_of(order), line_ids)
    without = [line.line_id for line in lines if not line.product.policy_id]
    if without:
        raise LinesWithoutPolicy(without)
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(line.product.policy_id, []).append(line.line_id)
    return [PolicyGroup(policy_id, tuple(ids)) for policy_id, ids in groups.items()]


def policy_for(lines: Iterable[OrderLine], *, as_of: datetime) -> Policy:
    """The version of the lines' policy in force at `as_of`: a version scheduled for later
    does not assess a request made before its time."""
    return current_policy(policy_id_for(lines), at=as_of)


def granted_lines(account_ids: Iterable[int]) -> Any:
    """The refunds granted to these accounts, one row per case line, oldest decision
    first: (case id, account id, then history_entry's arguments)."""
    # Columns, not cases: a case row carries its assessment (a few KB of JSON), and an
    # account's history is read for every assessment.
    return (
        CaseLine.objects.filter(case__account_id__in=list(account_ids),
                                case__state__in=GRANTED_STATES)
        .exclude(rule="")
        .order_by("case__decided_at", "id")
        .values_list("case_id", "case__account_id", "case__decided_at", "case__submitted_at",
                     "order_line__product__code", "rule", "approved_minor", "assessed_minor",
                     "case__currency")
    )


def history_entry(decided_at: datetime | None, submitted_at: datetime, product: str,
                  rule: str, approved: int | None, assessed: int, currency: str
                  ) -> RefundHistory:
    """One granted refund as the facts' history lists it: when it was decided (or asked
    for, while undecided) and what was granted."""
    return RefundHistory(decided_at or submitted_at, product, rule,
                         approved if approved is not None else assessed, currency)


def refund_history(order: Order) -> list[RefundHistory]:
    """The refunds granted to the order's account, as granted_lines reads them for many
    accounts: one fixed statement (core/statements.py), as every assessment asks."""
    return [history_entry(moment(decided), _moment(submitted), product, rule, approved,
                          assessed, currency)
            for decided, submitted, product, rule, approved, assessed, currency
            in fetch(_granted_statement(connection.vendor),
                     [order.account_id, *GRANTED_STATES])]


def _moment(value: Any) -> datetime:
    found = moment(value)
    assert found is not None  # from a column that is not null
    return found


@cache
def _granted_statement(vendor: str) -> str:
    # The same rows, in the same order, as granted_lines reads for many accounts.
    states = ", ".join(["%s"] * len(GRANTED_STATES))
    return (
        f"SELECT c.{column(RefundCase, 'decided_at')}, c.{column(RefundCase, 'submitted_at')}, "
        f"pr.{column(Product, 'code')}, cl.{column(CaseLine, 'rule')}, "
        f"cl.{column(CaseLine, 'approved_minor')}, cl.{column(CaseLine, 'assessed_minor')}, "
        f"c.{column(RefundCase, 'currency')} "
        f"FROM {table(CaseLine)} cl "
        f"JOIN {table(RefundCase)} c ON c.{column(RefundCase, 'id')} = "
        f"cl.{column(CaseLine, 'case')} "
        f"JOIN {table(OrderLine)} ol ON ol.{column(OrderLine, 'id')} = "
        f"cl.{column(CaseLine, 'order_line')} "
        f"JOIN {table(Product)} pr ON pr.{column(Product, 'id')} = "
        f"ol.{column(OrderLine, 'product')} "
        f"WHERE c.{column(RefundCase, 'account')} = %s "
        f"AND c.{column(RefundCase, 'state')} IN ({states}) "
        f"AND cl.{column(CaseLine, 'rule')} <> '' "
        f"ORDER BY c.{column(RefundCase, 'decided_at')}, cl.{column(CaseLine, 'id')}")


def _facts(record: OrderRecord) -> OrderFacts:
    """The facts of an order with the account's history of refunds and orders, as every
    assessment of it reads them."""
    return order_facts(record, refunds=refund_history(record.order))


def assess_order(order: Order | OrderRecord, line_ids: list[str], *, as_of: datetime
                 ) -> tuple[Policy, Assessment]:
    """The policy that applies to these lines of the order at `as_of` (the version in force
    then), and its assessment."""
    record = record_of(order)
    return _assess(record, line_ids, as_of, _facts(record))


def _assess(record: OrderRecord, line_ids: Sequence[str], as_of: datetime, facts: OrderFacts
            ) -> tuple[Policy, Assessment]:
    policy = policy_for(chosen_lines(record, line_ids), as_of=as_of)
    return policy, assess(policy, facts, as_of=as_of, lines=line_ids)


@dataclass(frozen=True)
class GroupQuote:
    group: PolicyGroup
    policy: Policy
    assessment: Assessment


def assess_groups(order: Order | OrderRecord, line_ids: Sequence[str], *, as_of: datetime
                  ) -> list[GroupQuote]:
    """Each policy group of the chosen lines assessed on its own, as the case it would
    become: the live quote of a choice that may span refund policies."""
    record = record_of(order)
    groups = policy_groups(record, line_ids)
    # One read of the facts and the history for every group: they are the order's.
    facts = _facts(record)
    quotes = []
    for group in groups:
        policy, assessment = _assess(record, group.line_ids, as_of, facts)
        quotes.append(GroupQuote(group, policy, assessment))
    return quotes
