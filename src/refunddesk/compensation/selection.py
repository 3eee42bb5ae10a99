"""Which order lines a run looks at: the lines of the chosen products, SKUs and flags whose
service was active during the outage (it started before the outage ended, and had not
ended — or has no end — when it began).

The billing mirror keeps no region column. A region is selected the way the merchant's
billing system records it: as a line flag (`"flags": ["region:ap-shanghai"]` in the order
facts; the selection's flags must all be on the line) or as part of the SKU (a SKU prefix,
`cvm.sh.*`). docs/compensation.md says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from refunddesk.billing.models import OrderLine
from refunddesk.compensation.remedies import Window

PREFIX = "*"


@dataclass(frozen=True)
class Selection:
    products: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()  # exact, or a prefix ending in "*"
    flags: tuple[str, ...] = ()  # every one must be on the line

    @property
    def is_empty(self) -> bool:
        return not self.products and not self.skus and not self.flags

    def matches(self, sku: str, flags: Iterable[str]) -> bool:
        """The parts the database is not asked (JSON flags cannot be searched alike on
        SQLite and PostgreSQL): the SKU patterns and the flags."""
        if self.skus and not any(sku == pattern or (pattern.endswith(PREFIX)
                                                    and sku.startswith(pattern[:-1]))
                                 for pattern in self.skus):
            return False
        flags = set(flags or ())
        return all(flag in flags for flag in self.flags)


def candidates(selection: Selection, window: Window) -> QuerySet[OrderLine]:
    """The lines that may match, narrowed by the database (products, SKUs, the service
    active during the outage); `Selection.matches` decides the rest."""
    lines = OrderLine.objects.filter(service_start__isnull=False,
                                     service_start__lt=window.end).filter(
        Q(service_end__isnull=True) | Q(service_end__gt=window.start))
    if selection.products:
        lines = lines.filter(product__code__in=list(selection.products))
    if selection.skus:
        lines = lines.filter(reduce(or_, [
            Q(sku__startswith=pattern[:-1]) if pattern.endswith(PREFIX) else Q(sku=pattern)
            for pattern in selection.skus]))
    return lines
