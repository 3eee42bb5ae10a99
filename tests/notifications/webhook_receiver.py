"""A real HTTP server on 127.0.0.1 that receives webhooks (http.server in a thread), answers
as told, and keeps every request; plus endpoints subscribed to it. The `receiver` fixture
(tests/notifications/conftest.py) runs one per test."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import timezone

from refunddesk.notifications.models import WebhookEndpoint, WebhookEvent
from refunddesk.notifications.webhook_signing import new_secret


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """What the server answers: `statuses` one by one (then `status`), after `delay`
    seconds, with `body` and `headers`. `on_request`, when set, is called as each request
    arrives, before it is answered."""

    url: str = ""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    body: bytes = b'{"received": true}'
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    on_request: Callable[[], None] | None = None

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body,
                                              time.time()))
            if receiver.on_request is not None:
                receiver.on_request()
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(receiver.answer())
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has gone: writing the late answer fails, as it should.
        pass


@contextmanager
def running_receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """A running receiver at receiver.url (path /hooks), stopped afterwards; over https
    with the server context `tls` when given."""
    found = Receiver()
    server = QuietServer(("127.0.0.1", 0), _handler(found))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    found.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


def nothing_listening() -> str:
    """The address of a local port where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def subscribe(url: str = "http://127.0.0.1:9/hooks", events: Iterable[str] | None = None,
              *, is_active: bool = True, description: str = "") -> WebhookEndpoint:
    """An endpoint for `events` (every event when None), made directly."""
    return WebhookEndpoint.objects.create(
        url=url, events=list(WebhookEvent.values if events is None else events),
        secret=new_secret(), is_active=is_active, description=description,
        created_at=timezone.now())
