"""E-mail intake throughput: a mailbox of mixed messages turned into cases, replies and
triage items, on a fresh SQLite file.

Of every 20 messages: 12 requests in the documented format from customers (each its own
order), 2 free-form HTML-only requests, 3 replies to cases opened earlier in the run,
2 from strangers (triage) and 1 machine mail (ignored). Each is stored and processed the
way the pipe and the IMAP poller do it (intake.storing.store, intake.processing.process).

Prints mail_cases_per_second (cases opened per second of the whole run),
mail_messages_per_second and mail_p99_ms (one message, stored and processed).
Then a tenth as many requests are only stored, as when processing failed or a worker died,
and the worker's sweep (intake.processing.process_waiting, claiming them by the shared
lease) processes them: mail_sweep_messages_per_second.
MESSAGES=N sets the size (default 10,000).
"""

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def order_facts(n: int) -> dict:
    placed = START + timedelta(minutes=3 * n)
    return {
        "id": f"MAIL-{n:07d}",
        "account": {"id": f"acct-mail-{n:07d}", "email": f"customer{n}@example.com",
                    "name": f"客户 {n}", "created_at": "2025-06-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": placed.isoformat(),
        "currency": "CNY",
        "lines": [{"id": "1", "sku": "cvm.s5.medium", "product": "cvm",
                   "category": "cloud_server", "billing": "prepaid",
                   "term": {"unit": "year", "count": 1},
                   "service_start": placed.isoformat(),
                   "service_end": (placed + timedelta(days=365)).isoformat(),
                   "list_price": "1200.00", "amount_paid": "960.00", "flags": []}],
        "payments": [{"id": "P1", "method": "alipay", "funding": "cash", "amount": "960.00",
                      "paid_at": placed.isoformat(), "gateway": "sandbox",
                      "reference": f"R{n}"}],
    }


def request(n: int) -> bytes:
    return (f"From: customer{n}@example.com\r\nTo: refunds@desk.example\r\n"
            f"Subject: =?UTF-8?B?6YCA5qy+55Sz6K+3?= / Refund request: MAIL-{n:07d}\r\n"
            f"Message-ID: <request-{n}@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"账户 / Account: acct-mail-{n:07d}\r\n订单 / Order: MAIL-{n:07d}\r\n"
            "原因 / Reason: 不再需要\r\n").encode()


def html_request(n: int) -> bytes:
    return (f"From: customer{n}@example.com\r\nTo: refunds@desk.example\r\n"
            f"Subject: Refund please\r\nMessage-ID: <html-{n}@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"<p>Hello,</p><p>please refund <b>MAIL-{n:07d}</b>.</p>\r\n").encode()


def reply(n: int, tracking: str) -> bytes:
    return (f"From: customer{n}@example.com\r\n"
            f"To: refunds+{tracking.replace('-', '')}@desk.example\r\n"
            f"Subject: Re: {tracking}\r\nMessage-ID: <reply-{n}@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nThanks, any news?\r\n\r\n"
            "On Mon, Mar 2, 2026 at 10:00 AM RefundDesk wrote:\r\n> Your request...\r\n"
            ).encode()


def stranger(n: int) -> bytes:
    return (f"From: someone{n}@example.org\r\nTo: refunds@desk.example\r\n"
            f"Subject: question\r\nMessage-ID: <stranger-{n}@example.org>\r\n\r\n"
            "Do you refund VPN plans?\r\n").encode()


def machine(n: int) -> bytes:
    return (f"From: MAILER-DAEMON@mx.example.com\r\nTo: refunds@desk.example\r\n"
            f"Subject: Undelivered\r\nMessage-ID: <bounce-{n}@mx.example.com>\r\n"
            "Auto-Submitted: auto-replied\r\n\r\nDelivery failed.\r\n").encode()


def main() -> None:
    count = int(os.environ.get("MESSAGES", "10000"))
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
        os.environ["MEDIA_ROOT"] = str(Path(workdir) / "media")
        import json

        import django

        django.setup()
        from django.core.management import call_command

        from refunddesk.billing.importing import import_jsonl
        from refunddesk.billing.models import Product
        from refunddesk.intake.models import InboundMail, MailState
        from refunddesk.intake.processing import process, process_waiting
        from refunddesk.intake.storing import store

        call_command("migrate", verbosity=0)
        requests = [n for n in range(count) if n % 20 < 14]
        swept = range(count, count + count // 10)
        report = import_jsonl([json.dumps(order_facts(n)) for n in [*requests, *swept]])
        if not report.is_clean:
            raise SystemExit(f"bench import failed: {report.errors[:3]}")
        Product.objects.update(policy_id="tencent-cloud")

        opened: list[tuple[int, str]] = []
        timings: list[float] = []
        cases = 0
        now = START + timedelta(days=2)
        started = time.perf_counter()
        for n in range(count):
            kind = n % 20
            if kind < 12:
                raw = request(n)
            elif kind < 14:
                raw = html_request(n)
            elif kind < 17 and opened:
                customer, tracking = opened[(n * 7) % len(opened)]
                raw = reply(customer, tracking)
            elif kind < 19:
                raw = stranger(n)
            else:
                raw = machine(n)
            one = time.perf_counter()
            mail, _ = store(raw, source="imap", now=now)
            mail = process(mail, now=now)
            timings.append(time.perf_counter() - one)
            if mail.state == MailState.OPENED_CASE:
                cases += 1
                opened.append((n, mail.case.tracking_number))
        elapsed = time.perf_counter() - started

        for n in swept:
            store(request(n), source="pipe", now=now)
        sweep_started = time.perf_counter()
        while process_waiting(now=now + timedelta(minutes=1)):
            pass
        sweep_elapsed = time.perf_counter() - sweep_started
        left = InboundMail.objects.filter(state=MailState.RECEIVED).count()
        if left:
            raise SystemExit(f"the sweep left {left} messages unprocessed")

    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    print(f"mail_cases_per_second: {cases / elapsed:.1f}")
    print(f"mail_messages_per_second: {count / elapsed:.1f}")
    print(f"mail_p99_ms: {p99:.1f}")
    print(f"mail_sweep_messages_per_second: {len(swept) / sweep_elapsed:.1f}")


if __name__ == "__main__":
    main()
