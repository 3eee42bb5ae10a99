"""The hourly digest: in the first pass of each hour, each staff member who chose it gets
one e-mail with their notices of before that hour still unread and not yet mailed (run by
the worker's periodic thread, core/periodic.py).

Safe to run in every worker at once and again after a crash. The hour's digest of a
recipient is one row the database allows once (`one_digest_per_hour`): a second worker's
insert fails and it moves on. The notices are claimed by one UPDATE that only takes those
no digest has taken yet, in the same transaction that queues the e-mail, so a notice is
mailed in one digest at most and a crash before the commit leaves it for the next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from refunddesk.inbox.models import Digest, EmailMode, Notice, Preference
from refunddesk.notifications.outbox import notify_digest

log = logging.getLogger(__name__)


def hour_of(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def waiting() -> QuerySet[Notice]:
    """Notices waiting for a digest: for one, unread, in none yet."""
    return Notice.objects.filter(is_for_digest=True, digest__isnull=True,
                                 read_at__isnull=True)


def send_digests(now: datetime) -> int:
    """Queue this hour's digests; the number queued."""
    period = hour_of(now)
    recipient_ids = set(
        waiting().filter(created_at__lt=period)
        .exclude(recipient__inbox_preference__email__in=[EmailMode.AT_ONCE, EmailMode.OFF])
        .values_list("recipient_id", flat=True).distinct())
    if not recipient_ids:
        return 0
    recipient_ids -= set(Digest.objects.filter(period=period, recipient_id__in=recipient_ids)
                         .values_list("recipient_id", flat=True))
    sent = 0
    users = get_user_model().objects.filter(pk__in=recipient_ids, is_active=True)
    preferences = {preference.user_id: preference for preference in
                   Preference.objects.filter(user_id__in=recipient_ids)}
    for user in users.order_by("pk"):
        preference = preferences.get(user.pk) or Preference(user=user)
        try:
            sent += _send_one(user, preference, period=period, now=now)
        except Exception:
            log.exception("digest for staff member %s failed; tried again next pass", user.pk)
    return sent


def _send_one(user: User, preference: Preference, *, period: datetime,
              now: datetime) -> int:
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = Digest.objects.create(recipient=user, period=period, created_at=now)
        except IntegrityError:
            return 0  # another worker sends this hour's digest
        claimed = (waiting().filter(recipient=user, created_at__lt=period)
                   .update(digest=digest))
        if not claimed:
            # Read (or taken) since the look: no empty e-mail, and the hour stays free.
            transaction.set_rollback(True)
            return 0
        notify_digest(digest, user.email, preference.language)
    return 1
