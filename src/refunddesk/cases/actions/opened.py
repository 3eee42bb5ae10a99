"""A case as its opening wrote it, for the callers that show it at once (the API's answer)
without reading back what was just written; every other caller wants the case alone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec

if TYPE_CHECKING:
    from refunddesk.cases.models import CaseLine, RefundCase
    from refunddesk.payouts.models import Payout

P = ParamSpec("P")


@dataclass(frozen=True)
class Opened:
    """The case, its lines and the payouts an approval at once planned, as written."""

    case: RefundCase
    lines: list[CaseLine]
    payouts: list[Payout]


def case_only(opening: Callable[P, Opened]) -> Callable[P, RefundCase]:
    """`opening` answering with the case alone, under the same parameters."""
    @functools.wraps(opening)
    def opened_case(*args: P.args, **kwargs: P.kwargs) -> RefundCase:
        return opening(*args, **kwargs).case
    return opened_case


def cases_only(opening: Callable[P, list[Opened]]) -> Callable[P, list[RefundCase]]:
    """`opening` answering with the cases alone, under the same parameters."""
    @functools.wraps(opening)
    def opened_cases(*args: P.args, **kwargs: P.kwargs) -> list[RefundCase]:
        return [opened.case for opened in opening(*args, **kwargs)]
    return opened_cases
