"""`refunddesk check` (and the worker, which runs the checks when it starts) refuses a gateway
whose configuration cannot work — a key that is not a key, half of a set of credentials —
instead of its payouts failing one by one at the first refund."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.utils.module_loading import import_string

from refunddesk.payouts.gateways import configured


def gateways_are_usable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    for name, config in configured().items():
        try:
            adapter = import_string(config["BACKEND"])(name, **config.get("OPTIONS", {}))
        except Exception as error:  # any failure to build it is a configuration problem
            found.append(checks.Error(f"gateway {name!r} cannot be set up: {error}",
                                      id="payouts.E001"))
            continue
        found.extend(checks.Error(f"gateway {name!r}: {problem}", id="payouts.E002")
                     for problem in adapter.configuration_problems())
    return found
