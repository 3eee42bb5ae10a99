"""Work done on a clock rather than on a request, in threads next to each `refunddesk
worker`'s task loop: the deadline sweep, the staff's hourly digests, the reports' service
times, the audit of scheduled policy versions that took effect and the mass
compensation runs whose worker stopped, once a minute (also
`refunddesk sweep` for cron), with the e-mail stored but not yet processed
(intake/processing.py); and, every second, the payouts (payouts/runner.py), the outgoing
e-mail (notifications/sending.py) and the webhook deliveries (webhook_sending.py), whose
rows are their own queues. All of them take their rows by the same claim-and-lease
protocol (core/leasing.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from refunddesk.api.idempotency import purge as purge_idempotency_keys
from refunddesk.cases.sweeping import SweepResult, sweep_deadlines
from refunddesk.compensation.running import resume_stalled
from refunddesk.inbox.digests import send_digests
from refunddesk.intake.imap import poll_all
from refunddesk.intake.mailboxes import mailboxes_from_setting
from refunddesk.intake.processing import process_waiting
from refunddesk.notifications import sending, webhook_sending
from refunddesk.payouts.runner import BATCH, run_pass
from refunddesk.policies.publishing import record_taking_effect
from refunddesk.reports.moves import roll_moves
from refunddesk.reports.timings import refresh_timings

log = logging.getLogger(__name__)


# The counted steps of the minute's pass, in order, each with what its count means in the
# log (a step that found nothing says nothing).
STEPS: list[tuple[Callable[..., int], str]] = [
    (send_digests, "queued %s staff digests"),
    (lambda now: process_waiting(now=now),
     "read %s e-mail messages stored but not yet processed"),
    (refresh_timings, "reports: service times of %s cases worked out"),
    (roll_moves, "reports: state changes of %s days counted"),
    (record_taking_effect, "policies: %s scheduled versions took effect"),
    (resume_stalled, "compensation: %s runs whose worker stopped queued again"),
    (purge_idempotency_keys, "forgot %s idempotency keys older than a day"),
]


def run_periodic() -> SweepResult:
    now = timezone.now()
    result = sweep_deadlines(now)
    if any(vars(result).values()):
        log.info("deadline sweep: %s", result)
    for step, message in STEPS:
        count = step(now)
        if count:
            log.info(message, count)
    return result


def read_mailboxes() -> None:
    """Every configured mailbox read once (intake/imap.py); settings checked at start-up."""
    mailboxes = mailboxes_from_setting(settings.REFUNDDESK_IMAP_MAILBOXES)
    if mailboxes:
        found = poll_all(mailboxes)
        if found.stored:
            log.info("mailboxes: %s new messages", found.stored)


def run_payouts() -> bool:
    """One pass over the payouts that are due; True when there may be more right now."""
    result = run_pass()
    if result.taken:
        log.info("payouts: %s taken, %s paid, %s failed, %s waiting, %s dropped",
                 result.taken, result.succeeded, result.failed, result.waiting,
                 result.dropped)
    return result.taken >= BATCH


def send_email() -> bool:
    """One pass over the e-mails that are due; True when there may be more right now."""
    taken = sending.send_waiting()
    if taken:
        log.info("e-mail: %s deliveries taken", taken)
    return taken >= sending.BATCH


def send_webhooks() -> bool:
    """One pass over the webhook deliveries that are due; True when there may be more."""
    taken = webhook_sending.deliver_waiting()
    if taken:
        log.info("webhooks: %s deliveries taken", taken)
    return taken >= webhook_sending.BATCH


class PeriodicThread(threading.Thread):
    """Runs `work` every `seconds` until stopped, at once again while it says there is more;
    an error is logged, not fatal."""

    def __init__(self, seconds: float, work: Callable[[], object] = run_periodic,
                 name: str = "refunddesk-periodic"):
        super().__init__(name=name, daemon=True)
        self.seconds, self.work = seconds, work
        self.stopped = threading.Event()

    def run(self) -> None:
        more = False
        while more or not self.stopped.wait(self.seconds):
            if self.stopped.is_set():
                break
            close_old_connections()
            try:
                more = self.work() is True
            except Exception:
                more = False
                log.exception("%s failed; it runs again in %ss", self.name, self.seconds)
            finally:
                if not more:
                    connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
