"""notify(case, kind): an e-mail for the customer, queued in the caller's transaction (and
the staff's: a change of roles, an inbox notice, a digest).

The delivery row is written in the same transaction as the change it reports, so a
rolled-back change sends nothing and a committed one is never forgotten. The rows are the
queue: a delivery is due at once (`next_attempt_at`), and the worker's pass, every second,
sends it (sending.py). A change writes no task row for its mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from refunddesk.core.statements import insert
from refunddesk.notifications.models import EmailDelivery, Kind, Status

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase
    from refunddesk.core.models import StaffRoleChange
    from refunddesk.inbox.models import Digest, Notice
    from refunddesk.intake.models import InboundMail, MailAnswer


def notify(case: RefundCase, kind: str) -> EmailDelivery:
    return notify_all(case, [kind])[0]


def notify_all(case: RefundCase, kinds: Sequence[str]) -> list[EmailDelivery]:
    """Several e-mails about one change (a case opened and approved at once), written
    together."""
    kinds = [Kind(kind) for kind in kinds]  # a misspelt kind fails the caller's transaction
    now = timezone.now()
    # A fixed statement (core/statements.py): every opened case writes its mails.
    return list(insert([_to_customer(case, kind, now) for kind in kinds]))


def notify_each(cases: Sequence[RefundCase], kind: str) -> list[EmailDelivery]:
    """The same e-mail to the customer of each case (the cases a batch of payouts
    refunded), written together in the transaction that moved the cases."""
    kind = Kind(kind)
    if not cases:
        return []
    now = timezone.now()
    return EmailDelivery.objects.bulk_create(_to_customer(case, kind, now) for case in cases)


def _to_customer(case: RefundCase, kind: str, now: datetime) -> EmailDelivery:
    address = case.account.email
    if not address:
        # Kept in the log, so staff see that the customer was not told.
        return EmailDelivery(case=case, kind=kind, to_address="", language=case.language,
                             status=Status.FAILED,
                             last_error="the account has no e-mail address", created_at=now,
                             next_attempt_at=None)
    return EmailDelivery(case=case, kind=kind, to_address=address, language=case.language,
                         created_at=now, next_attempt_at=now)


def notify_of_role_change(change: StaffRoleChange, addresses: Sequence[str]
                          ) -> list[EmailDelivery]:
    """Tell `addresses` (core/role_changes.py decides whom) of a change of staff roles, in
    the desk's language; queued in the change's transaction like every e-mail."""
    from django.conf import settings

    now = timezone.now()
    return EmailDelivery.objects.bulk_create(
        EmailDelivery(role_change=change, kind=Kind.ROLES_CHANGED, to_address=address,
                      language=settings.LANGUAGE_CODE, created_at=now, next_attempt_at=now)
        for address in addresses)


def _staff_deliveries(deliveries: list[EmailDelivery]) -> list[EmailDelivery]:
    """Write staff e-mails; one without an address is kept as failed, never sent."""
    for delivery in deliveries:
        if not delivery.to_address:
            delivery.status = Status.FAILED
            delivery.last_error = "the staff member has no e-mail address"
        else:
            delivery.next_attempt_at = delivery.created_at
    return EmailDelivery.objects.bulk_create(deliveries)


def notify_staff(notices: Sequence[tuple[Notice, str, str]]) -> list[EmailDelivery]:
    """One e-mail per inbox notice, each (notice, address, language), for staff who want
    them at once; queued in the transaction that wrote the notices."""
    if not notices:
        return []
    now = timezone.now()
    return _staff_deliveries([
        EmailDelivery(notice=notice, kind=Kind.STAFF_NOTICE, to_address=address,
                      language=language, created_at=now)
        for notice, address, language in notices])


def notify_digest(digest: Digest, address: str, language: str) -> EmailDelivery:
    """A staff member's hourly digest, queued in the transaction that claimed its notices."""
    return _staff_deliveries([EmailDelivery(digest=digest, kind=Kind.STAFF_DIGEST,
                                            to_address=address, language=language,
                                            created_at=timezone.now())])[0]


def notify_sender(mail: InboundMail, address: str, language: str) -> EmailDelivery:
    """The automatic reply to an e-mail that waits for a person (intake/replying.py decides
    whether one is due), queued in the transaction that placed the e-mail."""
    now = timezone.now()
    return EmailDelivery.objects.create(
        inbound_mail=mail, kind=Kind.MAIL_RECEIVED, to_address=address, language=language,
        created_at=now, next_attempt_at=now)


def notify_answer(answer: MailAnswer, address: str, language: str) -> EmailDelivery:
    """An agent's answer to the sender of an e-mail in triage, queued in its transaction."""
    now = timezone.now()
    return EmailDelivery.objects.create(
        inbound_mail=answer.mail, mail_answer=answer, kind=Kind.MAIL_ANSWERED,
        to_address=address, language=language, created_at=now, next_attempt_at=now)
