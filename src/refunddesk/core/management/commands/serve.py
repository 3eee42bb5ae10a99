"""`refunddesk serve` — the web application under gunicorn, a production-grade server.

Any other gunicorn setting can be given through gunicorn's own GUNICORN_CMD_ARGS environment
variable (docs/deploy.md); the options here win over it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

# Two processes per core: a request is mostly Python on the CPU, and partly waiting for
# PostgreSQL, when the other process uses the core. One thread each (gunicorn's sync
# worker): on two cores bench/bench_api.py found 2 to 6 processes alike, and threads only
# lengthened the tail (docs/deploy.md).
WORKERS_PER_CORE = 2
DEFAULT_THREADS = 1
DEFAULT_TIMEOUT = 30


def default_workers() -> int:
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


def gunicorn_command(host: str, port: int, workers: int, *, threads: int = DEFAULT_THREADS,
                     timeout: int = DEFAULT_TIMEOUT, access_log: bool = True) -> list[str]:
    """The gunicorn command line. More than one thread a process takes gunicorn's threaded
    worker (gthread), which also keeps client connections alive between requests."""
    command = [
        sys.executable, "-m", "gunicorn", "refunddesk.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--threads", str(threads),
        "--timeout", str(timeout),
        "--graceful-timeout", "10",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    return command


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1, got {text!r}")
    return int(text)


class Command(BaseCommand):
    help = ("Serve RefundDesk with gunicorn (static files included, via WhiteNoise). Put it "
            "behind a reverse proxy that terminates TLS; see docs/deploy.md.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1",
                            help="Address to listen on (default 127.0.0.1; 0.0.0.0 for every "
                                 "interface, when the proxy runs on another machine).")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=_positive, default=default_workers(),
                            help="Worker processes (default: two per CPU core, here "
                                 f"{default_workers()}).")
        parser.add_argument("--threads", type=_positive, default=DEFAULT_THREADS,
                            help="Threads per worker process (default 1). Above 1 gunicorn "
                                 "uses its threaded worker; each thread holds its own "
                                 "database connection.")
        parser.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT,
                            help="Seconds a request may take before its worker is restarted "
                                 f"(default {DEFAULT_TIMEOUT}).")
        parser.add_argument("--no-access-log", action="store_true",
                            help="Do not write a line per request to standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port: {options['port']} is not a TCP port", returncode=2)
        command = gunicorn_command(options["host"], options["port"], options["workers"],
                                   threads=options["threads"], timeout=options["timeout"],
                                   access_log=not options["no_access_log"])
        os.execv(command[0], command)
