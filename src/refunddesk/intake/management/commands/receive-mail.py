"""`refunddesk receive-mail`: the command a mail server pipes one message to (an alias
such as `refunds: "|/path/to/refunddesk receive-mail"`).

Exit codes are what mail servers understand: 0 once the message is stored (whatever
processing then makes of it: a failure there is retried by the worker, never by bouncing
the customer's mail), 75 (EX_TEMPFAIL) when the database cannot be reached, so the server
keeps the message and tries again, 65 (EX_DATAERR) for an empty input."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, OperationalError

from refunddesk.intake.models import Source
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store

EX_DATAERR, EX_TEMPFAIL = 65, 75
log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Store one e-mail read from standard input, then turn it into a case, a message "
            "on a case or a triage item. Exits 75 when the database is unreachable.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("receive-mail: no message on standard input")
            sys.exit(EX_DATAERR)
        try:
            mail, is_new = store(raw, source=Source.PIPE)
        except (OperationalError, InterfaceError) as error:
            self.stderr.write(f"receive-mail: the database is unreachable ({error}); "
                              "try again later")
            sys.exit(EX_TEMPFAIL)
        try:
            mail = process(mail)
        except (DatabaseError, OSError, ValueError):
            # Stored: the worker processes it again (intake.processing.process_waiting).
            log.exception("receive-mail: message %s stored, processing failed", mail.pk)
            return
        self.stdout.write(f"{mail.message_key}: {mail.state}"
                          + (f" {mail.case.tracking_number}" if mail.case else "")
                          + ("" if is_new else " (received before)"))
