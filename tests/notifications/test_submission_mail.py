"""A submission that opened one case per refund policy is confirmed by one e-mail naming
every case, each with its tracking link, in the customer's language: composed, and sent
through the worker to a real SMTP server."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery
from tests.notifications.conftest import BASE_URL, run_worker
from tests.portal.builders import mixed_order


def open_both_lines(language: str):
    """Line 1 (a server, Tencent Cloud) and line 2 (a VPN, the 30-day guarantee) of one
    order, applied for at once: two cases, both approved at once."""
    order = mixed_order("MIX-MAIL-1", "acct-mix-mail", "mix@example.com")
    return actions.open_cases(account=order.account, order=order, line_ids=["1", "2"],
                              actor=customer_of(order.account), channel="portal",
                              language=language)


def received_subject(language: str, cases) -> str:
    with translation.override(language):
        numbers = gettext(", ").join(case.tracking_number for case in cases)
        return gettext("We have received your refund requests %(numbers)s") % {
            "numbers": numbers}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_received_mail_of_a_submission_names_every_case_with_its_link(settings, language):
    # Given a submission that opened two cases
    settings.REFUNDDESK_BASE_URL = BASE_URL
    cases = open_both_lines(language)

    # When its one "received" e-mail is composed
    delivery = EmailDelivery.objects.get(kind="submitted")
    subject, text, html = compose(delivery)

    # Then it names every case, with the link to follow each
    assert subject == received_subject(language, cases)
    for case in cases:
        link = f"{BASE_URL}/track?number={case.tracking_number}"
        assert case.tracking_number in text and link in text
        assert case.tracking_number in html and f'href="{link}"' in html
    assert "MIX-MAIL-1" in text
    assert f'<html lang="{language}">' in html


@pytest.mark.django_db
def test_the_received_mail_says_what_happens_to_each_case_in_english():
    cases = open_both_lines("en")

    _subject, text, _html = compose(EmailDelivery.objects.get(kind="submitted"))

    assert "fall under 2 different refund policies" in text
    server, vpn = cases
    assert (f"{server.tracking_number} — Cloud Virtual Machine: approved at once; "
            "CN¥914.29 will be paid back.") in text
    assert (f"{vpn.tracking_number} — Harbor VPN: approved at once; CN¥300.00 will be "
            "paid back.") in text


@pytest.mark.django_db
def test_a_case_of_a_submission_still_in_review_is_said_to_be_reviewed():
    # Given the server started ten days ago: out of its five days, reviewed by an agent
    order = mixed_order("MIX-MAIL-2", "acct-mix-review", "review@example.com",
                        started_days_ago=10)
    server, _vpn = actions.open_cases(account=order.account, order=order,
                                      line_ids=["1", "2"],
                                      actor=customer_of(order.account), channel="portal",
                                      language="en")

    _subject, text, _html = compose(EmailDelivery.objects.get(kind="submitted"))

    assert f"{server.tracking_number} — Cloud Virtual Machine: an agent reviews it" in text


@pytest.mark.django_db(transaction=True)
def test_the_customer_receives_one_received_mail_for_the_whole_submission(mailbox):
    # Given a submission that opened two cases, in English
    cases = open_both_lines("en")

    # When the worker sends what was queued
    run_worker()

    # Then exactly one "received" mail arrived, naming both cases; none for a case alone
    subjects = [received.subject for received in mailbox.messages]
    assert subjects.count(received_subject("en", cases)) == 1
    for case in cases:
        assert f"We have received your refund request {case.tracking_number}" not in subjects
    received = next(message for message in mailbox.messages
                    if message.subject == received_subject("en", cases))
    assert received.rcpt_tos == ["mix@example.com"]
    for case in cases:
        assert f"Tracking number: {case.tracking_number}" in received.body("text/plain")
