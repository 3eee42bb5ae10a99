"""Every kind of mail has its words in both languages, with the tracking link; a kind that
does not exist is refused before anything is written."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import SENDER_KINDS, STAFF_KINDS, EmailDelivery, Kind
from refunddesk.notifications.outbox import notify
from tests.notifications.conftest import BASE_URL, submit_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", [kind for kind in Kind.values
                                  if kind not in STAFF_KINDS | SENDER_KINDS])
def test_every_kind_of_mail_composes_with_the_number_and_the_link(settings, kind, language):
    # given an approved case
    settings.REFUNDDESK_BASE_URL = BASE_URL
    case = submit_case(language)

    # when the mail of this kind is composed
    subject, text, html = compose(EmailDelivery(case=case, kind=kind, language=language))

    # then it has a one-line subject, and both bodies the number and the link
    link = f"{BASE_URL}/track?number={case.tracking_number}"
    assert subject and "\n" not in subject
    assert case.tracking_number in text and link in text
    assert case.tracking_number in html and f'href="{link}"' in html
    assert f'<html lang="{language}">' in html


def test_the_paid_mail_names_the_amount(settings):
    case = submit_case("en")
    subject, text, _html = compose(EmailDelivery(case=case, kind="paid", language="en"))
    assert subject == "Your refund of CN¥900.00 has been paid"
    assert f"The refund of CN¥900.00 for request {case.tracking_number} has been paid." in text


def test_a_misspelt_kind_is_refused_and_queues_nothing():
    # given a case and what it has queued so far
    case = submit_case("en")
    deliveries, tasks = EmailDelivery.objects.count(), DBTaskResult.objects.count()

    # when a caller notifies with a kind that does not exist
    with pytest.raises(ValueError), transaction.atomic():
        notify(case, "payed")

    # then nothing more is queued
    assert (EmailDelivery.objects.count(), DBTaskResult.objects.count()) == (deliveries, tasks)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_staff_mail_about_changed_roles_composes_in_both_languages(language):
    from refunddesk.core.role_changes import change_roles
    from tests.staff import staff_member

    admin = staff_member("admin-composer", "admin")
    agent = staff_member("agent-composed", "agent")
    change = change_roles(agent, ["reviewer"], actor=admin, source="console")

    subject, text, html = compose(EmailDelivery(role_change=change, kind="roles_changed",
                                                language=language))

    assert subject and "\n" not in subject and "agent-composed" in subject
    assert "admin-composer" in text and "agent-composed" in html
    assert f'<html lang="{language}">' in html
