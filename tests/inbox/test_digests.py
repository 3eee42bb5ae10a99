"""The hourly digest carries every notice still unread and not yet mailed from before the
hour, once: a second pass, a second worker or a restart sends nothing more. E-mail at once
writes one mail per notice; "off" writes none."""

from datetime import datetime, timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext

from refunddesk.inbox.digests import send_digests
from refunddesk.inbox.models import Digest, EmailMode, Notice, NoticeKind
from refunddesk.inbox.reading import mark_read
from refunddesk.inbox.telling import tell
from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery, Kind
from tests.inbox.conftest import prefer

pytestmark = pytest.mark.django_db

TEN = datetime.fromisoformat("2026-06-04T10:00:00+00:00")


def told(user, case, at, kind=NoticeKind.ASSIGNED, by="reviewer-a"):
    return tell([user], kind, case=case, now=at, data={"by": by})


def digests():
    return EmailDelivery.objects.filter(kind=Kind.STAFF_DIGEST)


def test_the_digest_of_an_hour_carries_its_unread_notices_and_is_queued_once(reviewed, staff):
    agent = staff["agent-a"]  # no preference saved: the hourly digest
    first = told(agent, reviewed, TEN + timedelta(minutes=5))
    second = told(agent, reviewed, TEN + timedelta(minutes=20))

    # within the hour nothing is sent yet
    assert send_digests(TEN + timedelta(minutes=30)) == 0
    # in the first pass of the next hour, one digest with both
    assert send_digests(TEN + timedelta(hours=1, seconds=30)) == 1
    [delivery] = digests()
    assert (delivery.to_address, delivery.language) == ("agent-a@staff.example", "zh-hans")
    assert list(delivery.digest.notices.order_by("id")) == [*first, *second]
    # the next passes of that hour, and of the hour after, send nothing again
    assert send_digests(TEN + timedelta(hours=1, minutes=1)) == 0
    assert send_digests(TEN + timedelta(hours=2, seconds=30)) == 0
    assert digests().count() == 1


def test_the_next_digest_carries_only_what_came_since_the_last(reviewed, staff):
    agent = staff["agent-a"]
    told(agent, reviewed, TEN + timedelta(minutes=5))
    send_digests(TEN + timedelta(hours=1, seconds=30))
    later = told(agent, reviewed, TEN + timedelta(hours=1, minutes=10))

    assert send_digests(TEN + timedelta(hours=2, seconds=30)) == 1

    newest = digests().order_by("-id").first()
    assert list(newest.digest.notices.all()) == later


def test_notices_read_before_the_digest_are_left_out(reviewed, staff):
    agent = staff["agent-a"]
    [read] = told(agent, reviewed, TEN + timedelta(minutes=5))
    mark_read(read, now=TEN + timedelta(minutes=6))

    assert send_digests(TEN + timedelta(hours=1, seconds=30)) == 0
    assert not digests().exists()


def test_a_second_worker_finds_the_hours_digest_taken_and_sends_nothing(reviewed, staff):
    agent = staff["agent-a"]
    told(agent, reviewed, TEN + timedelta(minutes=5))
    hour = TEN + timedelta(hours=1)
    # as if another worker had just written this hour's digest (with no notice yet)
    Digest.objects.create(recipient=agent, period=hour, created_at=hour)

    assert send_digests(hour + timedelta(seconds=30)) == 0
    assert not digests().exists()
    assert Notice.objects.get().digest is None  # left for the next hour, not lost


def test_staff_who_chose_no_email_get_none(reviewed, staff):
    agent = staff["agent-a"]
    prefer(agent, EmailMode.OFF)

    told(agent, reviewed, TEN + timedelta(minutes=5))

    assert send_digests(TEN + timedelta(hours=1, seconds=30)) == 0
    assert not EmailDelivery.objects.filter(kind__in=[Kind.STAFF_NOTICE,
                                                      Kind.STAFF_DIGEST]).exists()
    assert Notice.objects.count() == 1  # the inbox still has it


def test_email_at_once_queues_one_mail_per_notice_and_no_digest(reviewed, staff):
    agent = staff["agent-a"]
    prefer(agent, EmailMode.AT_ONCE, "en")

    [notice] = told(agent, reviewed, TEN + timedelta(minutes=5))

    [delivery] = EmailDelivery.objects.filter(kind=Kind.STAFF_NOTICE)
    assert (delivery.notice, delivery.to_address, delivery.language, delivery.case) == (
        notice, "agent-a@staff.example", "en", None)
    assert send_digests(TEN + timedelta(hours=1, seconds=30)) == 0


def test_each_email_is_written_in_its_recipients_language(reviewed, staff, settings):
    settings.REFUNDDESK_BASE_URL = "https://desk.example.com"
    prefer(staff["agent-a"], EmailMode.AT_ONCE, "en")
    prefer(staff["agent-b"], EmailMode.AT_ONCE, "zh-hans")
    number = reviewed.tracking_number

    tell([staff["agent-a"], staff["agent-b"]], NoticeKind.ASSIGNED, case=reviewed,
         now=TEN, data={"by": "reviewer-a"})

    mails = {delivery.to_address: compose(delivery) for delivery in
             EmailDelivery.objects.filter(kind=Kind.STAFF_NOTICE)}
    english = mails["agent-a@staff.example"]
    chinese = mails["agent-b@staff.example"]
    assert english[0] == f"Assigned to you: case {number}"
    assert f"reviewer-a gave you case {number}." in english[1]
    notice_link = "https://desk.example.com/console/inbox/"
    assert notice_link in english[1] and notice_link in english[2]
    with translation.override("zh-hans"):
        expected = (gettext("%(what)s: case %(number)s")
                    % {"what": gettext("Assigned to you"), "number": number})
    assert chinese[0] == expected != english[0]
    assert '<html lang="zh-hans">' in chinese[2]


def test_a_digest_names_how_many_notices_it_carries(reviewed, staff):
    prefer(staff["agent-a"], EmailMode.DIGEST, "en")
    told(staff["agent-a"], reviewed, TEN + timedelta(minutes=5))
    told(staff["agent-a"], reviewed, TEN + timedelta(minutes=6),
         kind=NoticeKind.CUSTOMER_ANSWERED)
    send_digests(TEN + timedelta(hours=1, seconds=30))

    subject, text, _html = compose(digests().get())

    assert subject == "2 notices in your RefundDesk inbox"
    assert "Assigned to you" in text and "The customer answered" in text
    assert text.count("/console/inbox/") >= 2


def test_turning_email_off_stops_the_digest_of_notices_already_waiting(reviewed, staff):
    agent = staff["agent-a"]
    told(agent, reviewed, TEN + timedelta(minutes=5))  # the default: waits for the digest
    prefer(agent, EmailMode.OFF)

    assert send_digests(TEN + timedelta(hours=1, seconds=30)) == 0

    prefer(agent, EmailMode.DIGEST)  # back on: what is still unread comes in the next one
    assert send_digests(TEN + timedelta(hours=1, minutes=1)) == 1
