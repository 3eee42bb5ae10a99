"""The placeholders a canned reply may hold, written {name}, and filling them in.

Replaced by a plain search, never by str.format, so a text cannot reach anything but these
three values."""

from __future__ import annotations

import re
from collections.abc import Mapping

CUSTOMER_NAME, AMOUNT, TRACKING_NUMBER = "customer_name", "amount", "tracking_number"
PLACEHOLDERS = (CUSTOMER_NAME, AMOUNT, TRACKING_NUMBER)

_FIELD = re.compile(r"\{([^{}]*)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The {names} of `text` that are not placeholders, each once, in order."""
    return list(dict.fromkeys(name for name in _FIELD.findall(text or "")
                              if name not in PLACEHOLDERS))


def has_stray_brace(text: str) -> bool:
    """A { or } that encloses no placeholder: most likely a mistyped one."""
    rest = _FIELD.sub("", text or "")
    return "{" in rest or "}" in rest


def fill(text: str, values: Mapping[str, str]) -> str:
    return _FIELD.sub(lambda found: values.get(found.group(1), found.group(0)), text)
