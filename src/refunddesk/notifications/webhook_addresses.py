"""Where webhooks may go: the address policy, checked when an admin saves an endpoint and
again before every attempt.

A webhook is a request this server makes to an address an admin typed, and the console
shows the start of the answer: pointed inside our own network it would read services that
only trust their neighbours (a database port, a cloud metadata service, an admin page on
localhost). So an address is refused unless *every* address its host resolves to is public.

- `https` only; plain `http` with DEBUG on or for a host in WEBHOOK_ALLOWED_HOSTS.
- Hosts in WEBHOOK_ALLOWED_HOSTS (a receiver the operator runs inside the network, the
  tests' local receiver) skip the address check; they are still resolved once and pinned.
- The host is resolved, never read as a string: getaddrinfo turns 2130706433, 0177.0.0.1
  and 0x7f.1 into 127.0.0.1, and whatever it answers is what gets connected to.
- The check returns the address it approved; the sender connects to exactly that address
  (webhook_pinning.py), so a DNS answer that changes after the check (rebinding) is never
  used.

`default_resolver` is the one way names are resolved here; tests replace it with a stub so
no lookup and no connection ever leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
# Named "private" for the admin; ipaddress's is_private also counts documentation and
# benchmark ranges, which are refused below as "not a public address".
PRIVATE = [ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")]
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: IPv4 in the low bits

# Why an address is refused, in English for the delivery log; marked for translation so the
# admin reads it in their language (gettext at the moment the message is made).
KINDS = {
    "unspecified": gettext_noop("an unspecified address"),
    "loopback": gettext_noop("a loopback address"),
    "link-local": gettext_noop("a link-local address"),
    "multicast": gettext_noop("a multicast address"),
    "carrier-grade NAT": gettext_noop("a carrier-grade NAT address"),
    "private": gettext_noop("a private address"),
    "reserved": gettext_noop("a reserved address"),
    "not public": gettext_noop("not a public address"),
}


class Refused(Exception):
    """The address is not one webhooks go to: `message` for the admin (translated),
    `reason` in English for the delivery log."""

    def __init__(self, message: Any, reason: str):
        super().__init__(reason)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class Destination:
    """An address that passed the check: connect to `address`, speak to `host`."""

    scheme: str
    host: str  # as in the URL: the Host header, TLS SNI and the certificate's name
    port: int
    address: str  # the checked IP address, the only one connected to


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, as the operating system resolves it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


default_resolver: Resolver = system_resolver


def kind_of(address: Address) -> str | None:
    """Why `address` is not public (a key of KINDS), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address dressed as IPv6 reaches the IPv4 address: judge that one.
        embedded = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None)
        if embedded is not None:
            return kind_of(embedded)
        if address.sixtofour is not None and (kind := kind_of(address.sixtofour)):
            return kind  # 2002::/16 is global itself; what it wraps may not be
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:  # is_global says yes to multicast
        return "multicast"
    if address in SHARED:
        return "carrier-grade NAT"
    if any(address in net for net in PRIVATE if net.version == address.version):
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not public"
    return None


def is_allowed_host(host: str) -> bool:
    """Listed in WEBHOOK_ALLOWED_HOSTS (case, brackets and a final dot aside)."""
    def plain(name: str) -> str:
        return name.strip().strip("[]").rstrip(".").lower()

    allowed = {plain(name) for name in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])}
    return plain(host) in allowed


def _parse(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = (parts.hostname or "").rstrip(".")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host or port == -1:
        raise Refused(_("This is not a valid web address."), "not a valid web address")
    return scheme, host, port or DEFAULT_PORTS[scheme]


def resolve(host: str, port: int, resolver: Resolver | None = None) -> list[Address]:
    """The addresses of `host`; Refused when it has none."""
    resolver = resolver or default_resolver
    try:
        # A link-local IPv6 answer carries its interface (fe80::1%eth0): still link-local.
        found = [ipaddress.ip_address(answer.split("%")[0])
                 for answer in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as error:
        raise Refused(_("The host %(host)s cannot be found; check the address.")
                      % {"host": host}, f"{host} cannot be resolved ({error})") from None
    if not found:
        raise Refused(_("The host %(host)s cannot be found; check the address.")
                      % {"host": host}, f"{host} cannot be resolved (no address)")
    return found


def _as_typed(address: Address) -> Address:
    # Named as the IPv4 address it reaches: Python 3.11 prints ::ffff:127.0.0.1 as
    # ::ffff:7f00:1, which few people recognise.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check(url: str, *, resolver: Resolver | None = None) -> Destination:
    """The destination of `url` if webhooks may go there; Refused (saying why) if not."""
    scheme, host, port = _parse(url)
    is_allowed = is_allowed_host(host)
    if scheme != "https" and not (settings.DEBUG or is_allowed):
        raise Refused(_("Use an https:// address. Plain http:// is allowed only with DEBUG "
                        "on or for hosts listed in WEBHOOK_ALLOWED_HOSTS."),
                      "plain http is used only with DEBUG on or for hosts in "
                      "WEBHOOK_ALLOWED_HOSTS")
    addresses = resolve(host, port, resolver)
    if not is_allowed:
        for address in addresses:
            kind = kind_of(address)
            if kind is not None:
                shown = _as_typed(address)
                raise Refused(
                    _("This address points inside this network (%(address)s is %(kind)s); "
                      "webhooks only go to public addresses.")
                    % {"address": shown, "kind": gettext(KINDS[kind])},
                    f"{shown} is {KINDS[kind]}")
    return Destination(scheme, host, port, str(addresses[0]))
