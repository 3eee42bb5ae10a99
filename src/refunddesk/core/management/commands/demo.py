"""`refunddesk demo` — what `make run` runs: a working RefundDesk with demo data.

Migrates, loads the demo data into an empty database, creates one staff user per role (with
a second factor, TOTP) and a portal login per customer, then runs Django's system checks
(the business calendars' warning among them, which needs the data) and the web server
(granian) and the background worker side by side until interrupted.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from refunddesk.billing.models import Account, Order
from refunddesk.calendars.demo import ensure_demo_calendar
from refunddesk.cases.models import RefundCase
from refunddesk.core.demo_staff import (
    CUSTOMER_PASSWORD,
    DEMO_STAFF_PREFIX,
    CustomerExample,
    DemoLogin,
    demo_customer_examples,
    ensure_demo_customers,
    ensure_demo_staff,
)
from refunddesk.core.management.commands.serve import server_command
from refunddesk.intake.examples import request_in_format
from refunddesk.paths import VAR_DIR
from refunddesk.recourse.editing import ensure_demo_texts
from refunddesk.replies.demo import ensure_demo_replies

READY_TIMEOUT_SECONDS = 60
MAIL_EXAMPLE = VAR_DIR / "examples" / "refund-request.eml"


class Command(BaseCommand):
    help = ("Migrate, load demo data when the database is empty, and serve the portal and "
            "console with the background worker. Ctrl-C stops everything.")
    # Run in handle() once the database is migrated and loaded: some checks read it.
    requires_system_checks: list[str] = []
    customers: tuple[CustomerExample, ...] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--seed", type=int, default=2026, help="seed of the demo data")
        parser.add_argument("--no-serve", action="store_true",
                            help="prepare the database and stop (for scripts and tests)")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self._load_data_once(options["seed"])
        logins = ensure_demo_staff()
        ensure_demo_calendar(get_user_model().objects.get(username=f"{DEMO_STAFF_PREFIX}admin"))
        ensure_demo_customers()
        ensure_demo_texts()
        ensure_demo_replies()
        self.customers = tuple(demo_customer_examples(timezone.now()))
        self.mail_example = self._write_mail_example()
        self._open_cases_once(options["seed"])
        self.check()
        connection.close()  # the children open their own connections
        if options["no_serve"]:
            self._print_logins(logins, None)
            return
        self._serve(options["host"], options["port"], logins)

    def _load_data_once(self, seed: int) -> None:
        if Order.objects.exists() or Account.objects.exists():
            self.stdout.write("The database already has data; demo data not loaded again.")
            return
        from refunddesk.billing.demo import load_demo_data

        started = time.monotonic()
        summary = load_demo_data(seed=seed, now=timezone.now())
        self.stdout.write(
            f"Loaded demo data in {time.monotonic() - started:.1f} s: {summary.accounts} "
            f"accounts, {summary.orders} orders, {summary.subscriptions} subscriptions."
        )
        if summary.refundable_examples:
            self.stdout.write("Orders inside a money-back window today, to try a refund on: "
                              + ", ".join(summary.refundable_examples))
        if summary.two_policy_examples:
            self.stdout.write("Orders whose lines fall under two refund policies (one case "
                              "per policy): " + ", ".join(summary.two_policy_examples))

    def _open_cases_once(self, seed: int) -> None:
        """Refund requests on the first start only: two months of the desk's past, for the
        reports, then the console's queue of the last four days."""
        from refunddesk.cases.demo import open_demo_cases
        from refunddesk.cases.demo_history import open_demo_history
        from refunddesk.reports.moves import roll_moves
        from refunddesk.reports.timings import refresh_timings

        if RefundCase.objects.exists():
            return
        now = timezone.now()
        started = time.monotonic()
        # All or nothing: a demo stopped half-way would find cases on its next start and
        # open neither the rest of its past nor its queue.
        with transaction.atomic():
            # The history's own log lines (subscriptions ended, payouts refused on purpose)
            # tell of a past nobody watches, and would bury the logins printed below.
            quiet = logging.root.manager.disable
            logging.disable(logging.WARNING)
            try:
                past = open_demo_history(now, seed=seed)
            finally:
                logging.disable(quiet)
            took = time.monotonic() - started
            opened = open_demo_cases(now, seed=seed, after_history=True)
        if past:
            self.stdout.write(f"Wrote the demo's last two months in {took:.1f} s: {past} "
                              "refund cases worked and paid, for the reports.")
        # The service times and the past days' state changes of the reports at once, not
        # at the worker's first passes.
        refresh_timings(now)
        while roll_moves(now):
            pass
        if opened.opened:
            self.stdout.write(f"Opened {opened.opened} demo refund cases, {opened.in_review} "
                              "of them waiting in the console's queue.")

    def _serve(self, host: str, port: int, logins: list[DemoLogin]) -> None:
        url = f"http://{host}:{port}/"
        # The demo needs no mail server: unless EMAIL_BACKEND says otherwise, e-mail is
        # written as files under var/mail/ for staff to read.
        env = dict(os.environ)
        env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        env.setdefault("REFUNDDESK_BASE_URL", url)
        # The demo is served over plain http: a browser keeps cookies marked HTTPS-only (the
        # default without DEBUG) from http:// pages, and nobody could log in.
        env.setdefault("SECURE_COOKIES", "false")
        processes = [
            subprocess.Popen(server_command(host, port, workers=2), env=env),
            subprocess.Popen([sys.executable, "-m", "refunddesk.cli", "worker"], env=env),
        ]

        def stop(*_: Any) -> None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            self._wait_until_ready(url, processes[0])
            self._print_logins(logins, url)
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        finally:
            stop()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        stopped_on_request = (0, -signal.SIGTERM, -signal.SIGINT)
        failed = [p.args for p in processes if p.returncode not in stopped_on_request]
        if failed:
            # A list of strings: shown by its repr, as str() of a list always did.
            raise CommandError(f"stopped because a process failed: {failed[0]!r}")

    def _wait_until_ready(self, url: str, server: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"the web server exited with status {server.returncode}")
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"the web server did not answer at {url} within "
                           f"{READY_TIMEOUT_SECONDS} s")

    def _write_mail_example(self) -> Path | None:
        """A request by e-mail from a demo customer, for `refunddesk receive-mail`: the
        e-mail channel tried without a mail server."""
        example = next((found for found in self.customers if found.window == "five_day"),
                       None)
        if example is None:
            return None
        account = Account.objects.get(orders__external_id=example.order_id)
        path = MAIL_EXAMPLE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(request_in_format(sender=account.email, name=account.name,
                                           account_id=account.external_id,
                                           order_id=example.order_id))
        return path

    def _print_logins(self, logins: list[DemoLogin], url: str | None) -> None:
        lines = ["", "RefundDesk demo" + (f" is running at {url}" if url else " is ready."), ""]
        lines.append("Staff logins (console: /console/, admin: /admin/), with the secret of "
                     "each one's second factor (TOTP):")
        for login in logins:
            note = "" if login.is_new else "  (unless changed since the first start)"
            secret = login.totp_secret or "(no authenticator set up)"
            lines.append(f"  {login.role:<9} {login.username:<16} {login.password:<20} "
                         f"{secret}{note}")
        lines += ["The login asks for a 6-digit code: add the secret to an authenticator app, "
                  "or print the current code",
                  "with `refunddesk totp-code USERNAME` (e.g. `refunddesk totp-code "
                  "demo-agent`)."]
        if self.customers:
            lines += ["", f"Customer logins (password {CUSTOMER_PASSWORD}), each with an order "
                          "inside a money-back window today (portal: /accounts/login/):"]
            windows = {"five_day": "five-day refund", "money_back": "30-day money-back",
                       "two_policies": "lines under two refund policies: one case each"}
            for example in self.customers:
                window = windows[example.window]
                lines.append(f"  {example.email:<36} {example.order_id}  ({window})")
        if self.mail_example is not None:
            lines += ["", "Apply by e-mail, as a mail server would pipe it in (a request in the "
                          "documented format, docs/email.md):",
                      f"  refunddesk receive-mail < {self.mail_example}"]
        if url:
            if "EMAIL_BACKEND" not in os.environ:
                lines += ["", f"E-mail to customers is written to {settings.EMAIL_FILE_PATH}/ "
                              "(set EMAIL_BACKEND and EMAIL_HOST to send it)."]
            lines += ["", "Press Ctrl-C to stop."]
        self.stdout.write("\n".join(lines))
