"""Connecting to the address that was checked, and to no other.

requests resolves the URL's host name again when it connects. Between our check
(webhook_addresses.py) and that second lookup a DNS answer can change — a public address
for the check, 127.0.0.1 for the connection (DNS rebinding). So the connection pool is
given the checked IP address as its host, while the request still names the original host:
the Host header, the TLS SNI and the certificate check all use the host name, so https is
verified exactly as without pinning.

This uses requests' documented hook for custom adapters
(HTTPAdapter.build_connection_pool_key_attributes, requests >= 2.32) and urllib3's
`server_hostname` / `assert_hostname` pool arguments.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from refunddesk.notifications.webhook_addresses import Destination


class PinnedAdapter(HTTPAdapter):
    """Sends every request to `destination.address`, speaking to `destination.host`."""

    def __init__(self, destination: Destination):
        self.destination = destination
        super().__init__()

    def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: bool | str,
            cert: str | tuple[str, str] | None = None) -> tuple[Any, Any]:
        # Any: the stubs type the pool arguments as a TypedDict of only the keys requests
        # itself sets, but requests passes them on to urllib3's connection_from_host, which
        # takes any pool argument (server_hostname and assert_hostname below), and
        # documents this hook for changing them.
        attributes: Any = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any]
        pool_kwargs: dict[str, Any]
        host_params, pool_kwargs = attributes
        to = self.destination
        host = (host_params.get("host") or "").rstrip(".").lower()
        if (host, host_params.get("scheme")) != (to.host.lower(), to.scheme):
            # Only the checked URL goes through this adapter; anything else is a bug here.
            raise ValueError(f"{request.url} is not the checked address")
        host_params["host"], host_params["port"] = to.address, to.port
        if to.scheme == "https":
            pool_kwargs["server_hostname"] = to.host
            pool_kwargs["assert_hostname"] = to.host
        return host_params, pool_kwargs

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        # Without it http.client would name the IP address the pool connects to.
        request.headers["Host"] = urlsplit(request.url or "").netloc.rpartition("@")[2]


def webhook_session() -> requests.Session:
    """A session that ignores the environment: a proxy from HTTP(S)_PROXY would resolve
    the host name itself (undoing the pin), and ~/.netrc would add credentials."""
    session = requests.Session()
    session.trust_env = False
    return session


def pin(session: requests.Session, destination: Destination) -> None:
    adapter = PinnedAdapter(destination)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
