"""Many rows' own values written in one statement on PostgreSQL (core/bulk.py), as the
payout runner records a batch: each row gets its own values, NULLs included, and a value
too long for its column fails as in any UPDATE instead of being cut."""

from datetime import timedelta

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from refunddesk.core.bulk import update_from_values
from refunddesk.notifications.models import EmailDelivery, Kind

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db,
]


def deliveries(count: int) -> list[EmailDelivery]:
    now = timezone.now()
    return EmailDelivery.objects.bulk_create(
        EmailDelivery(kind=Kind.STAFF_NOTICE, to_address=f"agent{n}@example.com",
                      language="en", created_at=now, next_attempt_at=now)
        for n in range(count))


def test_each_row_gets_its_own_values_in_one_statement():
    # given three deliveries, changed each its own way in memory
    rows = deliveries(3)
    now = timezone.now()
    for n, row in enumerate(rows):
        row.status, row.attempts = ("sent", "queued", "failed")[n], n + 1
        row.last_error = "" if n == 0 else f"error {n} 错误"
        row.sent_at = now if n == 0 else None
        row.next_attempt_at = None if n != 1 else now + timedelta(minutes=n)

    # when they are written together
    with transaction.atomic():
        written = update_from_values(EmailDelivery, rows, [
            "status", "attempts", "last_error", "sent_at", "next_attempt_at"])

    # then each row has exactly its values
    assert written == 3
    assert list(EmailDelivery.objects.order_by("pk").values_list(
        "status", "attempts", "last_error", "sent_at", "next_attempt_at")) == [
        ("sent", 1, "", now, None),
        ("queued", 2, "error 1 错误", None, now + timedelta(minutes=1)),
        ("failed", 3, "error 2 错误", None, None)]


def test_a_value_too_long_for_its_column_fails_instead_of_being_cut():
    rows = deliveries(2)
    rows[1].status = "much too long for eight characters"

    with pytest.raises(DataError), transaction.atomic():
        update_from_values(EmailDelivery, rows, ["status"])

    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"queued"}
