"""No webhook test sends anything off this machine: a stub resolver for the webhook address
check (webhook_addresses.default_resolver), and a guard that refuses — and records — every
connection to an address other than loopback and every DNS lookup of a name.

Installed by the fixtures `stub_dns`, `network_guard` and `local_receivers_allowed` of
tests/notifications/conftest.py and tests/console/test_webhooks_page.py.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from refunddesk.notifications import webhook_addresses

# Public, and never connected to: the guard refuses it like any other non-loopback address.
PUBLIC = "93.184.216.34"


class StubResolver:
    """Answers host names from `answers` (a name → its addresses); numeric hosts
    (127.0.0.1, 2130706433, 0x7f.1, ::1) as the operating system reads them, which needs no
    lookup. Any other name is not found. Every host asked is kept in `asked`."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {"localhost": ["127.0.0.1", "::1"]}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        else:
            return [str(info[4][0]) for info in infos]
        if host.lower() in self.answers:
            return list(self.answers[host.lower()])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (stub resolver)")


@dataclass
class Guard:
    """What tried to leave: (address, port) of every connection and every name looked up."""

    connections: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def off_machine(self) -> list[tuple[str, int]]:
        return [to for to in self.connections if not is_loopback(to[0])]


def is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def install_stub_resolver(monkeypatch: Any) -> StubResolver:
    """The address check asks this stub instead of the system's resolver."""
    stub = StubResolver()
    monkeypatch.setattr(webhook_addresses, "default_resolver", stub)
    return stub


def install_guard(monkeypatch: Any) -> Guard:
    """Connections to loopback go through; any other fails (and is recorded). Names are
    not looked up: only numeric hosts and localhost (from /etc/hosts) resolve."""
    guard = Guard()
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            guard.connections.append((address[0], address[1]))
            if not is_loopback(address[0]):
                raise ConnectionRefusedError(f"test guard: no connection to {address[0]}")
        return real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        flags = kwargs.get("flags", args[4] if len(args) > 4 else 0)
        if name not in (None, "localhost") and not flags & socket.AI_NUMERICHOST:
            try:
                real_getaddrinfo(name, None, flags=socket.AI_NUMERICHOST)
            except socket.gaierror:
                guard.lookups.append(name)
                raise socket.gaierror(socket.EAI_NONAME,
                                      f"test guard: no DNS lookup of {name}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard


def allow_local_receivers(settings: Any) -> None:
    """The tests' receivers listen on 127.0.0.1 over plain http: allowed as an operator
    allows an internal receiver."""
    settings.WEBHOOK_ALLOWED_HOSTS = [*settings.WEBHOOK_ALLOWED_HOSTS, "127.0.0.1"]
