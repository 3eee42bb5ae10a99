"""Reading a mailbox with IMAPClient: every message not yet seen is fetched by UID without
marking it (BODY.PEEK), stored, then flagged \\Seen only once its row is committed. A
worker that dies in between leaves the message unseen; read again, it is recognised by its
Message-ID (storing.py) and opens nothing twice."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

from imapclient import SEEN, IMAPClient

from refunddesk.intake.mailboxes import Mailbox
from refunddesk.intake.models import Source
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store

log = logging.getLogger(__name__)

BATCH = 25  # messages fetched per round trip; a 20 MB message makes a batch large
TIMEOUT_SECONDS = 60


@dataclass
class PollResult:
    stored: int = 0
    known: int = 0


def connect(mailbox: Mailbox) -> IMAPClient:
    context = ssl.create_default_context()
    client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.security == "tls",
                        ssl_context=context, timeout=TIMEOUT_SECONDS)
    if mailbox.security == "starttls":
        client.starttls(context)
    if mailbox.oauth2:
        client.oauth2_login(mailbox.user, mailbox.secret)
    else:
        client.login(mailbox.user, mailbox.secret)
    return client


def poll(mailbox: Mailbox) -> PollResult:
    """Read every unseen message of the mailbox once."""
    result = PollResult()
    client = connect(mailbox)
    try:
        client.select_folder(mailbox.folder)
        unseen = client.search(["UNSEEN"])
        for batch in _batches(unseen, BATCH):
            for uid, data in client.fetch(batch, ["BODY.PEEK[]"]).items():
                raw = data.get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue
                mail, is_new = store(raw, source=Source.IMAP)  # committed here
                if is_new:
                    result.stored += 1
                    try:
                        process(mail)
                    except Exception:  # stored: the worker's sweep reads it again
                        log.exception("mail %s from %s stored, processing failed", mail.pk,
                                      mailbox.name)
                else:
                    result.known += 1
                client.add_flags([uid], [SEEN])
    finally:
        try:
            client.logout()
        except Exception:  # the connection may be gone; nothing to keep from it
            log.debug("logout from %s failed", mailbox.name, exc_info=True)
    return result


def poll_all(mailboxes: Iterable[Mailbox]) -> PollResult:
    """Each mailbox in turn; one that cannot be read is logged and the others still are."""
    total = PollResult()
    for mailbox in mailboxes:
        try:
            found = poll(mailbox)
        except Exception:
            log.exception("reading the mailbox %s failed; it is tried again", mailbox.name)
            continue
        total.stored += found.stored
        total.known += found.known
    return total


def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
