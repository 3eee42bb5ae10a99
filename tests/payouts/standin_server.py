"""What every provider's stand-in shares: an HTTP server on 127.0.0.1 (a free port) in a
thread, started and stopped by the test (or used as a context manager). The stand-in itself
only answers requests: its request handler reaches it as `self.server.standin`."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up waiting (a "slow" answer) is no error of the stand-in


class StandInServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], name: str):
        self.handler, self.name = handler, name
        self.server: ThreadingHTTPServer | None = None
        self.stopping = threading.Event()  # set on stop: cuts a "slow" answer short

    @property
    def address(self) -> str:
        assert self.server is not None, "the stand-in is not running"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.server = QuietServer(("127.0.0.1", 0), self.handler)
        self.server.standin = self  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name=self.name).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
