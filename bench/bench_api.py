"""REST API throughput on PostgreSQL through the production server (`refunddesk serve`).

Prints (DESIGN.md, "Targets that benchmarks report"):

  api_create_per_second    cases opened with POST /api/v1/cases by 16 concurrent clients:
                           each request assesses the order, inserts the case, its lines and
                           events and queues the customer's e-mail (the outbox), in one
                           transaction (target ≥ 300)
  api_create_p99_ms        99th percentile latency of cases opened in an open loop at half
                           that rate (sent on schedule whatever the answers, latency from
                           when each was due) (target ≤ 100)
  api_create_closed_loop_p99_ms   the same percentile of the 16 clients' requests above
  status_reads_per_second  GET /api/v1/cases/{tracking_number} by 16 clients (target ≥ 1,000)
  pgbench_insert_tps       pgbench, 16 clients, of the same inserts as bare SQL (a case row
                           with a tracking number, two lines, an audit event and an e-mail
                           delivery, which is its own queue) into scratch copies of the real
                           tables
  api_create_vs_pgbench    the ratio of the first to the last
  api_create_errors, status_read_errors   answers other than 201 / 200 (must be 0)
  healthz_per_second       GET /healthz by the same 16 clients: a request that only passes
                           the middleware and runs SELECT 1 — the ceiling of the server,
                           Django and PostgreSQL on this machine, to read the others against
  api_create_vs_healthz, status_reads_vs_healthz   the two rates over that ceiling, measured
                           in the same run: they hold on a busy or a faster machine where
                           the rates themselves do not (targets ≥ 0.30 and ≥ 0.80)

How: migrate; `refunddesk demo --no-serve` (the demo catalogue gives the products their
refund policies, and a few thousand background orders and cases); `refunddesk import
orders` of BENCH_API_ORDERS (12,000) orders of 3,000 accounts, each a cloud server and its
backup, prepaid for a year, paid by Alipay and a voucher — a quarter bought two days ago
(the five-day refund: auto-approved, a payout planned), the rest weeks ago (a pro-rata
refund of the unused time, sent to review); `refunddesk make_api_key` with cases:read and
cases:write. Then `refunddesk serve` on a free port with DEBUG off, one POST checked in full,
and 16 client threads with keep-alive connections (http.client) open one case per order
for 3 s of warm-up and BENCH_API_SECONDS (15) measured, then 64 threads open cases at half
the rate measured for BENCH_API_OPEN_LOOP_SECONDS (10), then read random ones of the
cases they opened for 10 s, then GET /healthz for 5 s. The load generator shares the
machine's cores with the server and PostgreSQL; it is kept light, but it is not free.

The server runs with `refunddesk serve`'s defaults (granian); BENCH_API_SERVERS measures
several one after the other on the same data, each with its own orders, e.g.
"granian:2x2 granian:2x4 gunicorn:4x1" (processes x threads; gunicorn, the server before,
when installed), and prints the figures of each (what was measured: docs/deploy.md).
After each phase a comment line says how many cores the server, PostgreSQL, the clients
and the rest of the machine used (from /proc): on a machine busy with other work the
figures are lower.

Database (PostgreSQL only: the figures are about it):
- BENCH_API_DATABASE_URL names a database this benchmark may fill (`createdb -O
  refunddesk refunddesk_apibench`). Each run adds its own accounts and orders under a
  run-specific prefix, so later runs work on the same database, which grows by about
  8,000 orders a run; recreate it for figures from a clean start.
- Else, with BENCH_DATABASE_URL (the database bench_payouts.py fills, which must not get
  our cases and their payouts), it creates a database of its own beside that one, named
  like it with `_api` appended, and drops it at the end: every run starts clean. This
  needs the CREATEDB privilege.
- With neither, or PostgreSQL unreachable, it says why on standard error and exits 0 —
  or 1 when CI=true, where a benchmark that silently measured nothing would mislead.
pgbench's scratch tables (bench_api_*) are dropped afterwards. Without pgbench on PATH (or
in /usr/lib/postgresql/*/bin) the pgbench figures are left out.

`python bench/bench_api.py --py-spy` also samples the server's processes with py-spy while
cases are opened and read, and prints the functions most often on the CPU.

`python bench/bench_api.py --profile [N]` instead works in this process, through Django's
test client, after the same set-up: the SQL queries of one POST of each kind and of one
GET, the time per request without a profiler, then cProfile over N (200) POSTs and GETs.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import itertools
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

CLIENTS = 16
ORDERS = int(os.environ.get("BENCH_API_ORDERS", "12000"))
ORDERS_PER_ACCOUNT = 4
WARMUP_SECONDS = 3.0
CREATE_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "15"))
READ_SECONDS = float(os.environ.get("BENCH_API_READ_SECONDS", "10"))
HEALTHZ_SECONDS = 5.0
OPEN_LOOP_SECONDS = float(os.environ.get("BENCH_API_OPEN_LOOP_SECONDS", "10"))
OPEN_LOOP_CLIENTS = 64
PGBENCH_SECONDS = 10
READY_TIMEOUT_SECONDS = 60
REFUNDDESK = [sys.executable, "-m", "refunddesk.cli"]
REASON = "The server is too slow for our workload; we moved to another region."


def skip(reason: str) -> NoReturn:
    """No PostgreSQL: a figure of this benchmark on anything else would mislead."""
    print(f"# bench_api: skipped: {reason}", file=sys.stderr)
    sys.exit(1 if os.environ.get("CI") == "true" else 0)


def check_database(url: str) -> None:
    import psycopg

    if not url.startswith(("postgres://", "postgresql://")):
        skip(f"{redacted(url)} is not a PostgreSQL database")
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as error:
        skip(f"PostgreSQL is not reachable at {redacted(url)}: {str(error).strip()}")


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """BENCH_API_DATABASE_URL as it is; else a database of its own made beside
    BENCH_DATABASE_URL's (bench_payouts.py needs that one without our cases and payouts),
    dropped at the end."""
    if os.environ.get("BENCH_API_DATABASE_URL"):
        check_database(os.environ["BENCH_API_DATABASE_URL"])
        yield os.environ["BENCH_API_DATABASE_URL"]
        return
    shared = os.environ.get("BENCH_DATABASE_URL", "")
    if not shared:
        skip("set BENCH_API_DATABASE_URL to an empty PostgreSQL database it may fill (e.g. "
             "postgres://refunddesk:refunddesk@127.0.0.1:5432/refunddesk_apibench), or "
             "BENCH_DATABASE_URL to one beside which it may create its own")
    check_database(shared)
    import psycopg
    from psycopg import sql

    name = database_name(shared) + "_api"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with psycopg.connect(shared, autocommit=True) as db:
            db.execute(drop)
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        sys.exit(f"bench_api: could not create the database {name} beside "
                 f"BENCH_DATABASE_URL's ({str(error).strip()}); set BENCH_API_DATABASE_URL "
                 "to an empty database this benchmark may fill")
    try:
        yield urllib.parse.urlsplit(shared)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(shared, autocommit=True) as db:
            db.execute(drop)


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


def redacted(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def environment(url: str, directory: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DEBUG": "false",
            "REFUNDDESK_VAR_DIR": str(directory),
            "REFUNDDESK_SANDBOX_LEDGER": str(directory / "sandbox.sqlite3"),
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "refunddesk.settings"}


def refunddesk(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run([*REFUNDDESK, *arguments], env=env, capture_output=True,
                            text=True)
    if result.returncode:
        sys.exit(f"refunddesk {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# -- data ---------------------------------------------------------------------------------

def bench_orders(run: str, now: datetime, count: int) -> list[dict[str, Any]]:
    """`count` orders of count / 4 accounts in the order-facts format (docs/importing.md).

    Each account's first order was bought two days ago (the five-day no-reason refund of
    the tencent-cloud policy: approved at once, its payout planned); the others weeks ago
    (a refund of the unused time, which an agent reviews)."""
    accounts = max(1, count // ORDERS_PER_ACCOUNT)
    orders = []
    for n in range(count):
        account, round_ = n % accounts, n // accounts
        if round_ == 0:
            placed, kind = now - timedelta(days=2, minutes=n % 600), "new"
        else:
            placed = now - timedelta(days=10 + 9 * round_ + n % 7, minutes=n % 600)
            kind = "renewal" if n % 3 == 0 else "new"
        start, paid_cvm = placed + timedelta(minutes=5), 960 + 10 * (n % 50)
        end = start + timedelta(days=365)
        orders.append({
            "id": f"BENCH-{run}-{n:06d}",
            "account": {"id": f"bench-{run}-{account:05d}",
                        "email": f"bench.{run.lower()}.{account}@example.com",
                        "name": f"Bench customer {account}",
                        "created_at": (now - timedelta(days=400)).isoformat()},
            "kind": kind, "channel": "direct", "placed_at": placed.isoformat(),
            "currency": "CNY", "invoiced": False,
            "lines": [
                {"id": "1", "sku": "cvm.s5.medium", "product": "cvm",
                 "category": "cloud_server", "billing": "prepaid",
                 "term": {"unit": "year", "count": 1}, "service_start": start.isoformat(),
                 "service_end": end.isoformat(), "list_price": "1200.00",
                 "amount_paid": f"{paid_cvm}.00", "flags": []},
                {"id": "2", "sku": "backup.100g", "product": "backup", "category": "backup",
                 "billing": "prepaid", "term": {"unit": "year", "count": 1},
                 "service_start": start.isoformat(), "service_end": end.isoformat(),
                 "list_price": "120.00", "amount_paid": "120.00", "flags": []},
            ],
            "payments": [
                {"id": "P1", "method": "alipay", "funding": "cash",
                 "amount": f"{paid_cvm + 120 - 60}.00", "paid_at": placed.isoformat(),
                 "gateway": "sandbox", "reference": f"{run}{n:08d}"},
                {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "60.00"},
            ],
        })
    return orders


def prepare(env: dict[str, str], directory: Path, run: str, count: int
            ) -> tuple[list[dict[str, Any]], str]:
    began = time.monotonic()
    refunddesk(env, "migrate", "-v0")
    refunddesk(env, "demo", "--no-serve")
    orders = bench_orders(run, datetime.now(UTC), count)
    feed = directory / "orders.jsonl"
    feed.write_text("".join(json.dumps(order) + "\n" for order in orders))
    imported = refunddesk(env, "import", "orders", str(feed), "--no-progress").strip()
    key = refunddesk(env, "make_api_key", "--name", f"bench {run}", "--scope", "cases:read",
                     "--scope", "cases:write").strip().splitlines()[-1]
    print(f"# set-up {time.monotonic() - began:.0f} s; import: {imported}")
    return orders, key


def case_request(order: dict[str, Any]) -> bytes:
    return json.dumps({"account": order["account"]["id"], "order": order["id"],
                       "lines": ["1", "2"], "reason": REASON, "language": "en"}).encode()


# -- the server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_specs() -> list[str]:
    """The servers to measure, one after the other on the same data: BENCH_API_SERVERS,
    e.g. "granian:2x2 granian:2x4 gunicorn:4x1" (server:processes x threads), else
    `refunddesk serve`'s defaults."""
    specs = os.environ.get("BENCH_API_SERVERS", "").split()
    for spec in specs:
        if not re.fullmatch(r"(granian|gunicorn):\d+x\d+", spec):
            sys.exit(f"BENCH_API_SERVERS: {spec!r} is not like granian:2x2 or gunicorn:4x1")
    return specs or ["serve"]


def server_arguments(port: int, spec: str) -> tuple[list[str], str]:
    """`refunddesk serve` (granian) with its defaults, or with the counts of a spec like
    granian:2x2; gunicorn:4x1 is gunicorn (when installed) with as many sync workers, the
    server before granian, to compare (gthread above one thread)."""
    if spec == "serve":
        return [*REFUNDDESK, "serve", "--port", str(port), "--no-access-log"], \
            "refunddesk serve (defaults)"
    server, _, counts = spec.partition(":")
    workers, threads = counts.split("x")
    if server == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "refunddesk.wsgi:application",
                   "--bind", f"127.0.0.1:{port}", "--workers", workers, "--threads", threads,
                   "--worker-class", "sync" if threads == "1" else "gthread"]
        return command, f"gunicorn {workers} processes × {threads} threads"
    return [*REFUNDDESK, "serve", "--port", str(port), "--no-access-log",
            "--workers", workers, "--threads", threads], \
        f"granian {workers} processes × {threads} threads"


def start_server(env: dict[str, str], port: int, log: Path, spec: str = "serve"
                 ) -> tuple[subprocess.Popen[bytes], str]:
    command, label = server_arguments(port, spec)
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"refunddesk serve exited with {server.returncode}:\n"
                     f"{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server, label
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"refunddesk serve did not answer within {READY_TIMEOUT_SECONDS} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- where the cores went ------------------------------------------------------------------

class CpuMeter:
    """CPU time of the server's processes, of PostgreSQL's (the bench database's backends
    and the server's own background processes), of this process (the clients) and of the
    rest of the machine, from /proc (Linux; elsewhere it reports nothing)."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid: int, database: str):
        self.server_pid, self.database = server_pid, database

    def snapshot(self) -> dict[str, float] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            groups = {"server": 0, "PostgreSQL": 0, "clients": 0}
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    group, ticks = self._process(int(entry.name))
                    if group:
                        groups[group] += ticks
        except OSError:
            return None
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        return {**groups, "machine": busy, "at": time.monotonic()}

    def _process(self, pid: int) -> tuple[str | None, int]:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None, 0
        fields = text[text.rindex(")") + 2:].split()
        ppid, ticks = int(fields[1]), int(fields[11]) + int(fields[12])
        if pid == os.getpid():
            return "clients", ticks
        if pid == self.server_pid or ppid == self.server_pid:
            return "server", ticks
        if command.startswith("postgres:") and (f" {self.database} " in command
                                                 or "walwriter" in command
                                                 or "background writer" in command
                                                 or "checkpointer" in command):
            return "PostgreSQL", ticks
        return None, 0

    def cores(self, before: dict[str, float] | None, after: dict[str, float] | None) -> str:
        if not before or not after:
            return ""
        seconds = after["at"] - before["at"]
        used = {name: (after[name] - before[name]) / self.TICK / seconds
                for name in ("server", "PostgreSQL", "clients", "machine")}
        rest = used.pop("machine") - sum(used.values())
        return ", ".join([f"{name} {value:.2f}" for name, value in used.items()]
                         + [f"rest of the machine {max(rest, 0):.2f}"])


# -- the clients ---------------------------------------------------------------------------

class Client:
    """One keep-alive connection. A server that closes it (gunicorn's sync worker does
    after every answer) is reconnected by http.client on the next request."""

    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: bytes | None = None
             ) -> tuple[int | str, float, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            return type(error).__name__, time.perf_counter() - began, b""
        return response.status, time.perf_counter() - began, data

    def close(self) -> None:
        self.connection.close()


class Phase:
    """CLIENTS threads calling `work(client)` until `seconds` have passed (or the work runs
    out: `work` returns None); what each call answered and how long it took."""

    def __init__(self, port: int, key: str, work, seconds: float,
                 meter: CpuMeter | None = None):
        self.port, self.key, self.work, self.seconds = port, key, work, seconds
        self.meter, self.cpu = meter, ""
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.error_sample = ""
        self.answers: list[bytes] = []
        self.ran_out = False
        self._lock = threading.Lock()

    def run(self) -> float:
        start = threading.Barrier(CLIENTS + 1)
        self.deadline = math.inf
        threads = [threading.Thread(target=self._client, args=(start,)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        self.deadline = began + self.seconds
        before = self.meter.snapshot() if self.meter else None
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        if self.meter:
            self.cpu = self.meter.cores(before, self.meter.snapshot())
        return elapsed

    def _client(self, start: threading.Barrier) -> None:
        client = Client(self.port, self.key)
        latencies, answers, errors = [], [], {}
        sample = ""
        start.wait()
        try:
            while time.perf_counter() < self.deadline:
                call = self.work()
                if call is None:
                    self.ran_out = True
                    break
                method, path, body, expected = call
                status, seconds, data = client.call(method, path, body)
                latencies.append(seconds)
                if status == expected:
                    answers.append(data)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                    sample = sample or f"{method} {path} → {status}: {data[:300]!r}"
        finally:
            client.close()
        with self._lock:
            self.latencies += latencies
            self.answers += answers
            for status, count in errors.items():
                self.errors[status] = self.errors.get(status, 0) + count
            self.error_sample = self.error_sample or sample

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class OpenLoop:
    """Requests sent at a fixed rate whatever the answers (an open loop, as independent
    customers arrive): request i is due at start + i / rate, and its latency runs from
    when it was due, so time spent waiting for a free client counts (no coordinated
    omission). OPEN_LOOP_CLIENTS threads are enough to keep the rate when the server keeps
    up; when it does not, the latencies grow, as they would."""

    def __init__(self, port: int, key: str, work, rate: float, seconds: float):
        self.port, self.key, self.work = port, key, work
        self.rate, self.seconds = rate, seconds
        self.latencies: list[float] = []
        self.errors = 0
        self.answered = 0
        self._next = itertools.count()
        self._lock = threading.Lock()

    def run(self) -> None:
        self.start = time.perf_counter() + 0.2
        threads = [threading.Thread(target=self._client) for _ in range(OPEN_LOOP_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _client(self) -> None:
        client = Client(self.port, self.key)
        latencies, errors, answered = [], 0, 0
        try:
            while True:
                due = self.start + next(self._next) / self.rate
                if due > self.start + self.seconds:
                    break
                call = self.work()
                if call is None:
                    break
                time.sleep(max(0.0, due - time.perf_counter()))
                method, path, body, expected = call
                status, _, _ = client.call(method, path, body)
                latencies.append(time.perf_counter() - due)
                errors += status != expected
                answered += status == expected
        finally:
            client.close()
        with self._lock:
            self.latencies += latencies
            self.errors += errors
            self.answered += answered


@contextlib.contextmanager
def sampled(pid: int, label: str) -> Iterator[None]:
    """With --py-spy: py-spy samples the server's processes while the phase runs, and the
    functions most often on the CPU (by themselves, and RefundDesk's own with what they
    call) are printed after it."""
    if "--py-spy" not in sys.argv:
        yield
        return
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    output = Path(tempfile.mkstemp(prefix="refunddesk-py-spy-", suffix=".txt")[1])
    recorder = subprocess.Popen([binary, "record", "--pid", str(pid), "--subprocesses",
                                 "--format", "raw", "--rate", "200",
                                 "--output", str(output), "--nonblocking"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        recorder.wait(timeout=30)
    print_samples(output, label)
    output.unlink(missing_ok=True)


def print_samples(path: Path, label: str, top: int = 15) -> None:
    """py-spy's raw format: one line per distinct stack, frames separated by ';' (outer
    first), then the count of samples."""
    own: dict[str, int] = {}
    ours: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in dict.fromkeys(f for f in frames if "refunddesk/" in f):
            ours[frame] = ours.get(frame, 0) + count
    if not total:
        print(f"# py-spy ({label}): no samples")
        return
    print(f"# py-spy while {label}: {total} samples of the server's threads (idle included)")
    for title, table in (("on the CPU (self)", own), ("RefundDesk's, with callees", ours)):
        print(f"#   {title}:")
        for frame, count in sorted(table.items(), key=lambda item: -item[1])[:top]:
            print(f"#     {100 * count / total:5.1f} %  {frame[:140]}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def check_one_case(port: int, key: str, order: dict[str, Any]) -> dict[str, Any]:
    """One POST, looked at in full: a mistake in the set-up (no policy, nothing refundable)
    must fail here rather than be measured."""
    client = Client(port, key)
    status, _, data = client.call("POST", "/api/v1/cases", case_request(order))
    client.close()
    if status != 201:
        sys.exit(f"POST /api/v1/cases answered {status}, not 201: {data[:2000]!r}")
    case = json.loads(data)
    assessed = [line for line in case["lines"] if line["rule"]]
    if case["state"] not in ("in_review", "approved") or not assessed \
            or case["assessed_total"] in (None, "0.00"):
        sys.exit(f"the first case was not assessed as a refund: {case}")
    return case


def measure_api(port: int, key: str, orders: list[dict[str, Any]], meter: CpuMeter
                ) -> dict[str, Any]:
    first = check_one_case(port, key, orders[0])
    print(f"# first case {first['tracking_number']}: {first['state']}, "
          f"{first['assessed_total']} {first['currency']}, rules "
          f"{', '.join(sorted({line['rule'] for line in first['lines']}))}")
    # Shuffled, so that the five-day orders (approved at once) are spread over the run.
    queue = orders[1:]
    random.Random(7).shuffle(queue)
    taken = itertools.count()

    def create():
        n = next(taken)
        if n >= len(queue):
            return None
        return "POST", "/api/v1/cases", case_request(queue[n]), 201

    warmup = Phase(port, key, create, WARMUP_SECONDS)
    warmup.run()
    creates = Phase(port, key, create, CREATE_SECONDS, meter)
    with sampled(meter.server_pid, "opening cases"):
        create_seconds = creates.run()
    opened = [json.loads(data)["tracking_number"] for data in warmup.answers + creates.answers]
    opened.append(first["tracking_number"])
    states: dict[str, int] = {}
    for data in creates.answers:
        state = json.loads(data)["state"]
        states[state] = states.get(state, 0) + 1

    pick = random.Random(11)

    def read():
        number = opened[pick.randrange(len(opened))]
        return "GET", f"/api/v1/cases/{number}", None, 200

    # The latency customers see at half the measured maximum, in an open loop.
    open_rate = max(1.0, 0.5 * len(creates.answers) / create_seconds)
    open_loop = OpenLoop(port, key, create, open_rate, OPEN_LOOP_SECONDS)
    open_loop.run()

    Phase(port, key, read, 1.0).run()  # warm-up
    reads = Phase(port, key, read, READ_SECONDS, meter)
    with sampled(meter.server_pid, "reading cases"):
        read_seconds = reads.run()
    # The ceiling of the server, Django and the database on this machine: a request that
    # does nothing but go through the middleware and run SELECT 1.
    empty = Phase(port, key, lambda: ("GET", "/healthz", None, 200), HEALTHZ_SECONDS)
    empty_seconds = empty.run()
    return {"creates": creates, "create_seconds": create_seconds, "states": states,
            "reads": reads, "read_seconds": read_seconds,
            "opened": len(opened) + open_loop.answered,
            "first": first, "warmup_errors": warmup.error_count + open_loop.errors,
            "open_loop": open_loop,
            "healthz_per_second": len(empty.answers) / empty_seconds}


# -- pgbench ---------------------------------------------------------------------------------

SCRATCH = {  # scratch table → the real table whose columns, defaults and indexes it copies
    "bench_api_case": "cases_refundcase",
    "bench_api_caseline": "cases_caseline",
    "bench_api_caseevent": "cases_caseevent",
    "bench_api_emaildelivery": "notifications_emaildelivery",
}


def pgbench_binary() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def json_literal(value: Any) -> str:
    """JSON as a SQL literal pgbench leaves alone. pgbench reads `:name` anywhere in a
    script as a variable, so a colon followed by a letter (inside a string) is written as
    the JSON escape \\u003a; a colon followed by a space cannot start a variable."""
    text = json.dumps(value, separators=(", ", ": "))
    return sql_text(re.sub(r":(?! )", r"\\u003a", text))


def pgbench_script(url: str, tracking_number: str) -> str:
    """The inserts of one opened case, as bare SQL, with the real sizes: the assessment,
    event data and address of a case this run opened through the API. The lines' order
    lines are numbered from the case's id: the copy of the partial unique index "one open
    case per order line" is checked, as in the real insert, and never collides."""
    import psycopg

    with psycopg.connect(url) as db:
        case_id, account_id, order_id, assessment = db.execute(
            "SELECT id, account_id, order_id, assessment FROM cases_refundcase "
            "WHERE tracking_number = %s", [tracking_number]).fetchone()
        event_data = db.execute("SELECT data FROM cases_caseevent WHERE case_id = %s "
                                "AND action = 'submitted'", [case_id]).fetchone()[0]
        address = db.execute("SELECT to_address FROM notifications_emaildelivery "
                             "WHERE case_id = %s LIMIT 1", [case_id]).fetchone()[0]
    return f"""\
BEGIN;
INSERT INTO bench_api_case (tracking_number, channel, reason_text, language, state,
  policy_ref, assessment, currency, assessed_total_minor, decision_note, appeal_text,
  submitted_at, updated_at, account_id, order_id, identity_check, requested_documents,
  first_response_due, review_due, sla_due_at, deadlines_estimated)
VALUES (upper(substr(md5(random()::text), 1, 4) || '-' || substr(md5(random()::text), 1, 4)
    || '-' || substr(md5(random()::text), 1, 3)), 'api', {sql_text(REASON)}, 'en',
  'submitted', 'tencent-cloud@1', {json_literal(assessment)}::jsonb, 'CNY', 95000, '', '',
  now(), now(), {account_id}, {order_id}, '{{}}', '[]', now() + interval '1 day',
  now() + interval '3 days', now() + interval '1 day', false)
RETURNING id AS case_id \\gset
INSERT INTO bench_api_caseline (rule, excluded_reason, assessed_minor, holds_line,
  order_line_id, case_id)
VALUES ('normal_refund', '', 90000, true, 2 * :case_id, :case_id),
       ('normal_refund', '', 5000, true, 2 * :case_id + 1, :case_id);
INSERT INTO bench_api_caseevent (at, actor_kind, action, from_state, to_state, data,
  is_customer_visible, case_id)
VALUES (now(), 'system', 'submitted', '', 'submitted', {json_literal(event_data)}::jsonb,
  true, :case_id);
INSERT INTO bench_api_emaildelivery (kind, to_address, language, status, subject, attempts,
  last_error, created_at, next_attempt_at, case_id)
VALUES ('submitted', {sql_text(address)}, 'en', 'queued', '', 0, '', now(), now(), :case_id);
COMMIT;
"""


def run_pgbench(url: str, tracking_number: str, directory: Path) -> float | None:
    binary = pgbench_binary()
    if binary is None:
        print("# pgbench not found: pgbench_insert_tps left out", file=sys.stderr)
        return None
    import psycopg

    script = directory / "insert_case.sql"
    script.write_text(pgbench_script(url, tracking_number))
    with psycopg.connect(url, autocommit=True) as db:
        for scratch, real in SCRATCH.items():
            db.execute(f"DROP TABLE IF EXISTS {scratch}")
            db.execute(f"CREATE TABLE {scratch} (LIKE {real} INCLUDING ALL)")
        for scratch in ("bench_api_caseline", "bench_api_caseevent", "bench_api_emaildelivery"):
            db.execute(f"ALTER TABLE {scratch} ADD FOREIGN KEY (case_id) REFERENCES "
                       "bench_api_case (id) DEFERRABLE INITIALLY DEFERRED")
    meter = CpuMeter(-1, database_name(url))
    try:
        pgbench = subprocess.Popen(
            [binary, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(PGBENCH_SECONDS),
             "-f", str(script), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        # Measured while it runs: its connections' processes are gone once it has finished.
        time.sleep(1.5)
        before = meter.snapshot()
        time.sleep(PGBENCH_SECONDS - 3)
        cpu = meter.cores(before, meter.snapshot()).replace("server 0.00, ", "").replace(
            "clients 0.00, ", "")
        stdout, stderr = pgbench.communicate()
        result = subprocess.CompletedProcess(pgbench.args, pgbench.returncode, stdout, stderr)
        with psycopg.connect(url) as db:
            rows = db.execute("SELECT count(*) FROM bench_api_case").fetchone()[0]
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            for scratch in reversed(SCRATCH):
                db.execute(f"DROP TABLE IF EXISTS {scratch}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode or tps is None or (failed and int(failed.group(1))):
        sys.exit(f"pgbench failed ({result.returncode}):\n{result.stdout[-2000:]}"
                 f"\n{result.stderr[-2000:]}")
    print(f"# pgbench -c {CLIENTS} -j 2 -T {PGBENCH_SECONDS}: {rows} cases inserted"
          + (f"; cores used: {cpu} (pgbench itself is in the rest)" if cpu else ""))
    return float(tps.group(1))


# -- the report ------------------------------------------------------------------------------

def report(api: dict[str, Any], server_options: str, pgbench_tps: float | None) -> None:
    creates, reads = api["creates"], api["reads"]
    created = len(creates.answers)
    rate = created / api["create_seconds"]
    ms = [seconds * 1000 for seconds in creates.latencies]
    read_rate = len(reads.answers) / api["read_seconds"]
    read_ms = [seconds * 1000 for seconds in reads.latencies]
    print(f"# server: {server_options}; {CLIENTS} clients; "
          f"{created} cases in {api['create_seconds']:.1f} s "
          f"({', '.join(f'{n} {s}' for s, n in sorted(api['states'].items()))}); "
          f"p50 {statistics.median(ms):.1f} ms, p90 {percentile(ms, 0.90):.1f} ms, "
          f"max {max(ms):.1f} ms")
    if creates.cpu:
        print(f"# cores used while opening cases: {creates.cpu}")
    print(f"# reads: {len(reads.answers)} in {api['read_seconds']:.1f} s; "
          f"p50 {statistics.median(read_ms):.1f} ms, p99 {percentile(read_ms, 0.99):.1f} ms")
    if reads.cpu:
        print(f"# cores used while reading: {reads.cpu}")
    if creates.ran_out:
        print(f"# ran out of orders after {api['opened']} cases: raise BENCH_API_ORDERS",
              file=sys.stderr)
    for phase, name in ((creates, "create"), (reads, "read")):
        if phase.errors:
            print(f"# {name} errors {phase.errors}; e.g. {phase.error_sample}", file=sys.stderr)
    if api["warmup_errors"]:
        print(f"# errors during the warm-up: {api['warmup_errors']}", file=sys.stderr)
    open_loop = api["open_loop"]
    open_ms = [seconds * 1000 for seconds in open_loop.latencies]
    print(f"# open loop: {len(open_ms)} cases at {open_loop.rate:.0f}/s (half the maximum) "
          f"for {open_loop.seconds:.0f} s; p50 {statistics.median(open_ms):.1f} ms")
    healthz = api["healthz_per_second"]
    print(f"api_create_per_second: {rate:.0f}")
    print(f"api_create_closed_loop_p99_ms: {percentile(ms, 0.99):.1f}")
    print(f"api_create_p99_ms: {percentile(open_ms, 0.99):.1f}")
    print(f"api_create_errors: {creates.error_count + api['warmup_errors']}")
    print(f"status_reads_per_second: {read_rate:.0f}")
    print(f"status_read_errors: {reads.error_count}")
    print(f"healthz_per_second: {healthz:.0f}")
    print(f"api_create_vs_healthz: {rate / healthz:.2f}")
    print(f"status_reads_vs_healthz: {read_rate / healthz:.2f}")
    if pgbench_tps is not None:
        print(f"pgbench_insert_tps: {pgbench_tps:.0f}")
        print(f"api_create_vs_pgbench: {rate / pgbench_tps:.2f}")


def check_database_rows(url: str, run: str, answered: int) -> None:
    """Every 201 is a case in the database, with its e-mail queued (the outbox)."""
    import psycopg

    with psycopg.connect(url) as db:
        cases, deliveries = db.execute(
            "SELECT count(DISTINCT c.id), count(d.id) FROM cases_refundcase c "
            "JOIN billing_order o ON o.id = c.order_id "
            "LEFT JOIN notifications_emaildelivery d ON d.case_id = c.id "
            "AND d.kind = 'submitted' WHERE o.external_id LIKE %s",
            [f"BENCH-{run}-%"]).fetchone()
    print(f"# database: {cases} cases of this run, {deliveries} 'submitted' e-mails queued "
          f"({answered} answered 201)")
    if cases != answered or deliveries != cases:
        print("# bench_api: the database does not match the answers", file=sys.stderr)


def main() -> None:
    with bench_database() as url:
        if "--profile" in sys.argv:
            at = sys.argv.index("--profile")
            profile(url, int(sys.argv[at + 1]) if len(sys.argv) > at + 1 else 200)
        else:
            measure(url)


def measure(url: str) -> None:
    run = datetime.now(UTC).strftime("%y%m%d%H%M%S")
    directory = Path(tempfile.mkdtemp(prefix="refunddesk-bench-api-"))
    specs = server_specs()
    try:
        env = environment(url, directory)
        orders, key = prepare(env, directory, run, ORDERS * len(specs))
        results, opened = [], 0
        for index, spec in enumerate(specs):
            port = free_port()
            server, options = start_server(env, port, directory / "server.log", spec)
            try:
                api = measure_api(port, key, orders[index::len(specs)],
                                  CpuMeter(server.pid, database_name(url)))
            finally:
                stop_server(server)
            opened += api["opened"]
            results.append((api, options))
        check_database_rows(url, run, opened)
        tps = run_pgbench(url, results[0][0]["first"]["tracking_number"], directory)
        for api, options in results:
            report(api, options, tps)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- profile -----------------------------------------------------------------------------------

def profile(url: str, count: int) -> None:
    """In this process, through Django's test client (no HTTP server, no network): the SQL
    queries of one POST of each kind and of one GET, the time per request without a
    profiler, then cProfile over `count` POSTs and `count` GETs."""
    import cProfile
    import pstats

    run = datetime.now(UTC).strftime("P%y%m%d%H%M%S")
    directory = Path(tempfile.mkdtemp(prefix="refunddesk-bench-api-"))
    try:
        env = environment(url, directory)
        orders, key = prepare(env, directory, run, 3 * count + 200)
        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection
        from django.test import Client as DjangoClient
        from django.test.utils import CaptureQueriesContext

        client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="127.0.0.1")
        numbers: list[str] = []

        def post(order: dict[str, Any]) -> dict[str, Any]:
            response = client.post("/api/v1/cases", case_request(order),
                                   content_type="application/json")
            assert response.status_code == 201, response.content[:2000]
            case = response.json()
            numbers.append(case["tracking_number"])
            return case

        def get(number: str) -> None:
            response = client.get(f"/api/v1/cases/{number}")
            assert response.status_code == 200, response.content[:2000]

        random.Random(7).shuffle(orders)
        recent = [order for order in orders if _recent(order)]
        older = [order for order in orders if not _recent(order)]
        for order in recent[:5] + older[:5]:  # warm: imports, URL resolver, policy cache
            post(order)
        for label, order in (("five-day (auto-approved)", recent[5]),
                             ("pro-rata (to review)", older[5])):
            with CaptureQueriesContext(connection) as queries:
                state = post(order)["state"]
            show_queries(f"one POST, {label} → {state}", queries.captured_queries)
        with CaptureQueriesContext(connection) as queries:
            get(numbers[-1])
        show_queries("one GET /api/v1/cases/{number}", queries.captured_queries)

        batch = (recent[6:] + older[6:])[:3 * count]
        random.Random(3).shuffle(batch)
        plain, profiled = batch[:count], batch[count:2 * count]
        began = time.perf_counter()
        for order in plain:
            post(order)
        post_ms = 1000 * (time.perf_counter() - began) / len(plain)
        began = time.perf_counter()
        for number in numbers[-count:]:
            get(number)
        get_ms = 1000 * (time.perf_counter() - began) / count
        print(f"# without a profiler, one process: POST {post_ms:.1f} ms each "
              f"({1000 / post_ms:.0f}/s), GET {get_ms:.1f} ms each ({1000 / get_ms:.0f}/s)")

        for label, calls in (("POST /api/v1/cases", lambda: [post(o) for o in profiled]),
                             ("GET /api/v1/cases/{number}",
                              lambda: [get(n) for n in numbers[-count:]])):
            profiler = cProfile.Profile()
            profiler.enable()
            calls()
            profiler.disable()
            print(f"\n# cProfile, {count} × {label}")
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(r"refunddesk|ninja/operation|"
                                                       r"handlers/base|middleware", 40)
            # Where the time of the view and of the action goes, call by call.
            stats.print_callees(r"api/cases.py:\d+\((open_case|read_case)\)|"
                                r"actions/customer.py:\d+\(submit\)|"
                                r"assessing.py:\d+\(assess_order\)")
            stats.sort_stats("tottime").print_stats(25)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def show_queries(label: str, queries: list[dict[str, str]]) -> None:
    print(f"# {label}: {len(queries)} SQL queries")
    for query in queries:
        print(f"#   {query['sql'][:150]}")


def _recent(order: dict[str, Any]) -> bool:
    placed = datetime.fromisoformat(order["placed_at"])
    return datetime.now(UTC) - placed < timedelta(days=5)


if __name__ == "__main__":
    main()
