"""A staff e-mail goes out through the customers' outbox and worker: queued with the change,
sent by the worker to a real SMTP server, once, in the language the staff member chose."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from refunddesk.cases import actions
from refunddesk.inbox.models import EmailMode
from refunddesk.notifications.models import EmailDelivery, Kind, Status
from tests.inbox.conftest import prefer
from tests.notifications.conftest import BASE_URL, mailbox, run_worker  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_chinese_agent_gets_the_notice_of_a_case_given_to_them_at_once_in_chinese(
        reviewed, staff, mailbox):  # noqa: F811 (the imported fixture)
    agent = staff["agent-a"]
    prefer(agent, EmailMode.AT_ONCE, "zh-hans")

    actions.assign(reviewed, actor=staff["reviewer-a"], assignee=agent)
    run_worker("--sweep-seconds", "0")
    run_worker("--sweep-seconds", "0")  # a second run sends nothing again

    staff_mail = [m for m in mailbox.messages if m.rcpt_tos == ["agent-a@staff.example"]]
    assert len(staff_mail) == 1
    with translation.override("zh-hans"):
        expected = (gettext("%(what)s: case %(number)s")
                    % {"what": gettext("Assigned to you"), "number": reviewed.tracking_number})
    assert staff_mail[0].subject == expected
    assert "分配给您" in staff_mail[0].subject
    assert f"{BASE_URL}/console/inbox/" in staff_mail[0].body("text/plain")
    delivery = EmailDelivery.objects.get(kind=Kind.STAFF_NOTICE)
    assert delivery.status == Status.SENT


def test_the_worker_sends_the_hours_digest_once(reviewed, staff, mailbox):  # noqa: F811
    agent = staff["agent-a"]
    prefer(agent, EmailMode.DIGEST, "en")
    # a case given to the agent two hours ago: before this hour, so this hour's digest has it
    actions.assign(reviewed, actor=staff["reviewer-a"], assignee=agent,
                   now=timezone.now() - timedelta(hours=2))

    run_worker()
    run_worker()

    digests = [m for m in mailbox.messages if m.rcpt_tos == ["agent-a@staff.example"]]
    assert [m.subject for m in digests] == ["1 notice in your RefundDesk inbox"]
    assert f"reviewer-a gave you case {reviewed.tracking_number}." in digests[0].body(
        "text/plain")
