"""The lines of an order as a person chooses among them: each with its product's name and
the case that already holds it, if any (such a line is shown, and cannot be chosen again)."""

from __future__ import annotations

from dataclasses import dataclass

from refunddesk.billing.models import Order, OrderLine
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.states import State


@dataclass
class LineRow:
    line: OrderLine
    product_name: str
    case: RefundCase | None

    @property
    def is_refunded(self) -> bool:
        return self.case is not None and self.case.state == State.REFUNDED


@dataclass
class OrderRow:
    order: Order
    lines: list[LineRow]

    @property
    def can_apply(self) -> bool:
        return any(row.case is None for row in self.lines)


def open_cases_by_line(lines: list[OrderLine]) -> dict[int, RefundCase]:
    """The case that holds each line (any state but withdrawn and closed)."""
    held = (CaseLine.objects.filter(order_line__in=lines, holds_line=True)
            .select_related("case"))
    return {row.order_line_id: row.case for row in held}


def line_rows(lines: list[OrderLine], language: str) -> list[LineRow]:
    cases = open_cases_by_line(lines)
    return [LineRow(line, line.product.name_for(language), cases.get(line.pk))
            for line in lines]
