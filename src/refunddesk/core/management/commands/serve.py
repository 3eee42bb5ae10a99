"""`refunddesk serve` — the web application under granian, a production-grade server.

Any other granian setting can be given through granian's own GRANIAN_* environment
variables (docs/deploy.md); the options here win over them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

# One process per core, each with a few threads: granian parses HTTP in Rust, keeps client
# connections alive, and hands each request to a Python thread; a second thread a process
# fills the waits for PostgreSQL. Chosen by bench/bench_api.py's figures against gunicorn
# (docs/deploy.md has them).
WORKERS_PER_CORE = 1
DEFAULT_THREADS = 2
# Seconds a stopping worker gets to finish the requests it has (SIGTERM, SIGHUP).
GRACE_SECONDS = 10


def default_workers() -> int:
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


def server_command(host: str, port: int, workers: int, *, threads: int = DEFAULT_THREADS,
                   access_log: bool = True) -> list[str]:
    """The granian command line: the WSGI application, `workers` processes of `threads`
    threads each; a worker that dies is started again."""
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--workers-kill-timeout", str(GRACE_SECONDS),
        "--respawn-failed-workers",
        "--access-log" if access_log else "--no-access-log",
        "refunddesk.wsgi:application",
    ]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1, got {text!r}")
    return int(text)


class Command(BaseCommand):
    help = ("Serve RefundDesk with granian (static files included, via WhiteNoise). Put it "
            "behind a reverse proxy that terminates TLS; see docs/deploy.md.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1",
                            help="Address to listen on (default 127.0.0.1; 0.0.0.0 for every "
                                 "interface, when the proxy runs on another machine).")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=_positive, default=default_workers(),
                            help="Worker processes (default: one per CPU core, here "
                                 f"{default_workers()}).")
        parser.add_argument("--threads", type=_positive, default=DEFAULT_THREADS,
                            help=f"Threads per worker process (default {DEFAULT_THREADS}); "
                                 "each thread holds its own database connection.")
        parser.add_argument("--no-access-log", action="store_true",
                            help="Do not write a line per request to standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port: {options['port']} is not a TCP port", returncode=2)
        command = server_command(options["host"], options["port"], options["workers"],
                                 threads=options["threads"],
                                 access_log=not options["no_access_log"])
        os.execv(command[0], command)
