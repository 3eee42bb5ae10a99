"""The order-facts format as the import takes it: the one reader of the format
(policy.facts.read_facts) and what the billing mirror asks beyond it.

`read_order(obj)` returns the order's `OrderFacts` or raises `OrderFactsError` listing the
problems with the JSON path of the field at fault (`payments[0].amount: not a decimal
amount`). The format's own rules are the reader's; the mirror adds what only it cares
about: a deliverable e-mail address (Django's validator), its product categories, and no
fields it cannot keep. Nothing here touches the database; the importer writes the facts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from refunddesk.billing.models import Category
from refunddesk.policy.facts import FactsError, OrderFacts, Problem
from refunddesk.policy.facts_reading import read_facts

__all__ = ["OrderFactsError", "Problem", "order_digest", "read_order"]

# One error for the one format, whichever reads it.
OrderFactsError = FactsError


def read_order(value: object) -> OrderFacts:
    """Check one order-facts object for the import; return its facts or raise
    OrderFactsError. The format's problems come first: the mirror's own checks need facts
    that could be read."""
    facts = read_facts(value)
    problems = mirror_problems(facts)
    if problems:
        raise OrderFactsError(problems)
    return facts


def mirror_problems(facts: OrderFacts) -> list[Problem]:
    """What the billing mirror refuses in facts the format allows."""
    problems = []
    try:
        validate_email(facts.account.email)
    except ValidationError:
        problems.append(Problem("account.email", "not an e-mail address"))
    categories = Category.values
    for index, line in enumerate(facts.lines):
        if line.category not in categories:
            problems.append(Problem(f"lines[{index}].category", f"{line.category!r} is not one "
                                                                f"of {', '.join(categories)}"))
        if line.current_price is not None:
            # Today's price only matters to `refunddesk assess`; the mirror has no column
            # for it, and dropping it silently would hide that.
            problems.append(Problem(f"lines[{index}].current_price",
                                    "not kept by the billing mirror; leave it out"))
    return problems


def order_digest(facts: OrderFacts) -> str:
    """A fingerprint of what the import keeps of an order, so an unchanged re-import is
    skipped. Times are taken in UTC and the e-mail in lower case, so the same order written
    with another offset has the same digest; the history is not kept, so not counted."""
    account = facts.account
    canonical = (
        facts.id,
        (account.id, normalised_email(account.email), account.name, account.phone,
         _utc(account.created_at)),
        facts.kind, facts.channel, _utc(facts.placed_at), facts.currency, facts.invoiced,
        tuple((line.id, line.sku, line.product, line.category, line.billing, line.term_unit,
               line.term_count, _utc(line.start), _utc(line.end), line.list_price,
               line.amount_paid, tuple(sorted(line.flags)),
               tuple((u.metric, str(u.quantity), u.unit, _utc(u.period_start),
                      _utc(u.period_end)) for u in line.usage))
              for line in facts.lines),
        tuple((p.id, p.method, p.funding, p.amount, _utc(p.paid_at), p.gateway, p.reference)
              for p in facts.payments),
    )
    return hashlib.sha256(repr(canonical).encode()).hexdigest()


def normalised_email(email: str) -> str:
    return email.strip().lower()


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
