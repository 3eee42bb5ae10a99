"""The configured gateways, by name (settings.REFUNDDESK_GATEWAYS).

Each entry names its adapter class (BACKEND) and the adapter's OPTIONS. A payout carries
the gateway's name; a name with no entry waits (RetryableError) until an operator adds it,
rather than failing money that could still go back the right way.
"""

from __future__ import annotations

import threading
from typing import Any, Required, TypedDict, cast

from django.conf import settings
from django.utils.module_loading import import_string

from refunddesk.payouts.gateways.base import Gateway, RetryableError

_instances: dict[str, Gateway] = {}
_lock = threading.Lock()


class GatewayConfig(TypedDict, total=False):
    """One entry of settings.REFUNDDESK_GATEWAYS."""

    BACKEND: Required[str]  # the adapter class, by dotted path
    OPTIONS: dict[str, Any]  # the adapter's keyword arguments


def configured() -> dict[str, GatewayConfig]:
    """settings.REFUNDDESK_GATEWAYS, by gateway name."""
    # settings.py writes every entry in this shape but cannot say so: mypy infers the
    # setting from its mixed literal values as a dict of plain objects.
    return cast(dict[str, GatewayConfig], settings.REFUNDDESK_GATEWAYS)


def gateway(name: str) -> Gateway:
    """The adapter for `name`, made once per process (it holds the rate limiter)."""
    with _lock:
        if name not in _instances:
            config = configured().get(name)
            if config is None:
                raise RetryableError("gateway_not_configured",
                                     f"no gateway named {name!r} is configured")
            adapter = import_string(config["BACKEND"])
            _instances[name] = adapter(name, **config.get("OPTIONS", {}))
        return _instances[name]


def reset() -> None:
    """Forget the adapters (after settings change, in tests)."""
    with _lock:
        _instances.clear()
