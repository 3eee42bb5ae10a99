"""A real SMTP server (aiosmtpd) on a free local port, Django's SMTP backend pointed at it, a
case on the DESIGN example order, and the worker run in this process."""

from __future__ import annotations

import copy
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import Order, Product
from refunddesk.billing.order_facts import read_order
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from tests.conftest import EXAMPLE_ORDER
from tests.notifications.network_guard import (
    allow_local_receivers,
    install_guard,
    install_stub_resolver,
)
from tests.notifications.webhook_receiver import running_receiver

# The DESIGN example: a CVM bought 2026-03-01 10:05 (Beijing) and paid 900.00 in cash and
# 60.00 in vouchers; inside Tencent Cloud's five days the cash comes back at once.
INSIDE_FIVE_DAYS = datetime.fromisoformat("2026-03-04T12:00:00+08:00")
BASE_URL = "https://refunds.example.com"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A folded non-ASCII subject keeps a leading space.
        return str(self.message["Subject"]).strip()

    def body(self, content_type: str) -> str:
        part = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        assert part is not None and part.get_content_type() == content_type
        return part.get_content()


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, or refuses as told: `refuse_rcpt`
    answers RCPT TO with that reply, `refuse_data` answers the message with it.
    `on_data`, when set, is called as each message arrives, mid-conversation."""

    messages: list[Received] = field(default_factory=list)
    refuse_rcpt: str = ""
    refuse_data: str = ""
    on_data: Callable[[], None] | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.on_data is not None:
            self.on_data()
        if self.refuse_data:
            return self.refuse_data
        self.messages.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos),
            message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_django_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.REFUNDDESK_BASE_URL = BASE_URL


@pytest.fixture
def mailbox(settings: Any):
    """A running SMTP server that Django sends to; yields its Mailbox."""
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    point_django_at(settings, controller.port)
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def no_smtp_server(settings: Any) -> int:
    """Django pointed at a local port where nothing listens."""
    port = free_port()
    point_django_at(settings, port)
    return port


def import_example_order(email: str = "li.lei@example.com") -> Order:
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts["account"]["email"] = email
    OrderImporter().import_order(read_order(facts))
    Product.objects.filter(code="cvm").update(policy_id="tencent-cloud")
    return Order.objects.select_related("account").get(external_id=facts["id"])


def submit_case(language: str) -> RefundCase:
    """The customer applies inside the five days: the case is approved at once."""
    order = import_example_order()
    return actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", language=language, now=INSIDE_FIVE_DAYS)


def run_worker(*options: str) -> None:
    """`refunddesk worker --batch --no-startup-delay`: every task due now, then exit.

    The worker installs its own SIGINT/SIGTERM handlers; they are put back afterwards so
    that Ctrl-C still stops the test run."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {number: signal.getsignal(number) for number in signals}
    try:
        call_command("worker", "--batch", "--no-startup-delay", *options, verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


@pytest.fixture(autouse=True)
def stub_dns(monkeypatch):
    """Webhook addresses resolve through a stub (network_guard.py)."""
    return install_stub_resolver(monkeypatch)


@pytest.fixture(autouse=True)
def network_guard(monkeypatch):
    """Connections go to loopback only; names are not looked up (network_guard.py)."""
    return install_guard(monkeypatch)


@pytest.fixture
def local_receivers_allowed(settings):
    allow_local_receivers(settings)


@pytest.fixture
def receiver(local_receivers_allowed):
    """A real HTTP server receiving webhooks at receiver.url (webhook_receiver.py), on
    127.0.0.1 which WEBHOOK_ALLOWED_HOSTS lets webhooks reach."""
    with running_receiver() as running:
        yield running
