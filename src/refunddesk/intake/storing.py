"""Keep a received message before anything else is done with it: the raw bytes under the
uploads storage, a row keyed by its Message-ID. Whatever happens afterwards (a crash, a
bug, a refusal), the message is never lost, and received again it is the same row."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from refunddesk.intake.models import InboundMail

KEY_MAX = 255


def message_key(raw: bytes, digest: str) -> str:
    """The message's own Message-ID without its angle brackets, or (missing, or too long to
    be a real one) its digest: the same message always has the same key."""
    try:
        found = BytesHeaderParser(policy=default).parsebytes(raw).get("Message-ID")
    except (ValueError, TypeError, IndexError):
        found = None  # a header too broken to read: the bytes decide
    text = str(found or "").strip().strip("<>").strip()
    if not text or len(text) > KEY_MAX or any(ch.isspace() for ch in text):
        return f"sha256:{digest}"
    return text


def store(raw: bytes, *, source: str, now: datetime | None = None) -> tuple[InboundMail, bool]:
    """The row of this message, and whether this call stored it (False: it was known)."""
    now = now or timezone.now()
    digest = hashlib.sha256(raw).hexdigest()
    key = message_key(raw, digest)
    known = InboundMail.objects.filter(message_key=key).first()
    if known is not None:
        return known, False
    headers = BytesHeaderParser(policy=default).parsebytes(raw)
    # Due at once: whoever stored it processes it now; should that fail, the worker's
    # sweep takes it (processing.py).
    mail = InboundMail(message_key=key, sha256=digest, size=len(raw), source=source,
                       received_at=now, next_attempt_at=now,
                       from_address=_header(headers, "From")[:254],
                       subject=_header(headers, "Subject")[:300])
    name = f"mail/{now:%Y/%m}/{digest}.eml"
    if default_storage.exists(name):
        mail.raw.name = name  # written by an attempt that died before its row: same bytes
    else:
        mail.raw.save(name, ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            mail.save(force_insert=True)
    except IntegrityError:
        # Received twice at the same moment (the pipe and the mailbox): the other one won.
        return InboundMail.objects.get(message_key=key), False
    return mail, True


def _header(headers: object, name: str) -> str:
    try:
        value = headers.get(name)  # type: ignore[attr-defined]
    except (ValueError, TypeError, IndexError):
        return ""
    return " ".join(str(value or "").split())
