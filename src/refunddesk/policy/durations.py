"""Durations as policy files write them: "5d", "120h", "30s", "6mo", "1y", "3bd".

Seconds-based units (s, h, d) are exact lengths of time; months and years are calendar
units (added with month arithmetic); business days (bd) are counted on a calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["s", "h", "d", "mo", "y", "bd"]
SECONDS = {"s": 1, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|h|d|mo|y|bd)\s*$")


class DurationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: Unit

    @classmethod
    def parse(cls, text: object, *, allowed: tuple[Unit, ...] = ("s", "h", "d", "mo", "y")
              ) -> Duration:
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if not match or match.group(2) not in allowed:
            examples = {"d": '"5d"', "h": '"120h"', "mo": '"6mo"', "y": '"1y"', "bd": '"3bd"'}
            shown = [examples[u] for u in examples if u in allowed]
            raise DurationError("expected a duration like " + " or ".join(shown))
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

    @property
    def is_exact(self) -> bool:
        return self.unit in SECONDS

    @property
    def seconds(self) -> int:
        if not self.is_exact:
            raise DurationError(f"{self} is not an exact length of time")
        return self.count * SECONDS[self.unit]

    @property
    def months(self) -> int:
        if self.unit not in ("mo", "y"):
            raise DurationError(f"{self} is not in months or years")
        return self.count * (12 if self.unit == "y" else 1)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"
