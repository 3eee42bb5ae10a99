"""After a final "no" (an appeal rejected, or the time to appeal passed) the case page, /track
and the closing e-mail say that the desk's part is over and where the customer may turn,
in the reader's language; no other case says so."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery
from refunddesk.recourse.editing import ensure_demo_texts
from tests.payouts.paid_cases import pay, vpn_case
from tests.recourse.builders import (
    closed_after_appeal,
    closed_after_appeal_window,
    closed_after_info_deadline,
    rejected,
    reviewed_case,
    withdrawn,
)

pytestmark = pytest.mark.django_db

# What each language says: the desk is done, and the demo's text for China.
SAYS = {
    "en": ("This decision is final",
           "Our part in handling this refund request is over",
           "You may call China&#x27;s consumer complaint hotline 12315",
           'href="https://www.12315.cn/"'),
    "zh-hans": ("此为最终决定", "我们对这笔退款申请的处理已经结束",
                "您可以拨打全国消费者投诉举报电话 12315", 'href="https://www.12315.cn/"'),
}
MAIL_SAYS = {
    "en": ("Our part in handling this refund request is over",
           "If you still disagree: You may call China's consumer complaint hotline 12315",
           "https://www.12315.cn/"),
    "zh-hans": ("我们对这笔退款申请的处理已经结束",
                "如您仍有异议：您可以拨打全国消费者投诉举报电话 12315",
                "https://www.12315.cn/"),
}
FINAL = {"appeal rejected": closed_after_appeal,
         "not appealed in time": closed_after_appeal_window}


@pytest.fixture(autouse=True)
def demo_texts():
    ensure_demo_texts()


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()  # /track counts lookups per address
    yield
    cache.clear()


def case_page(client, case, language):
    client.force_login(case.account.user)
    response = client.get(reverse("portal:case", args=[case.tracking_number]),
                          headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.content.decode()


def track_page(client, case, language):
    response = client.post("/track", {"number": case.tracking_number,
                                      "email": case.account.email},
                           headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.content.decode().split('id="track-result"')[1]


def mail_text(case, kind, language):
    delivery = EmailDelivery.objects.filter(case=case, kind=kind).latest("pk")
    delivery.language = language  # the same mail as a reader of the other language gets it
    _subject, text, html = compose(delivery)
    return text, html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("ending", FINAL)
def test_the_case_page_says_the_desk_is_done_and_where_to_turn(client, ending, language):
    # given a case whose "no" is final
    case = FINAL[ending](reviewed_case())

    # when its customer opens its page
    html = case_page(client, case, language)

    # then it says so, with the merchant's text for China, its address a link
    for words in SAYS[language]:
        assert words in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("ending", FINAL)
def test_track_says_the_desk_is_done_and_where_to_turn(client, ending, language):
    case = FINAL[ending](reviewed_case())

    result = track_page(client, case, language)

    for words in SAYS[language]:
        assert words in result


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_mail_of_a_rejected_appeal_says_where_to_turn(language):
    # given an appeal rejected again
    case = closed_after_appeal(reviewed_case(language=language))

    # when its mail is composed
    text, html = mail_text(case, "appeal_decided", language)

    # then it says the desk is done and where the customer may turn
    for words in MAIL_SAYS[language]:
        assert words in text
    assert MAIL_SAYS[language][0] in html


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_deadline_sweep_mails_a_final_decision_with_where_to_turn(language):
    # given a rejection nobody appealed in time, closed by the sweep
    case = closed_after_appeal_window(reviewed_case(language=language))

    # then a mail is queued, and it says the decision is final and where to turn
    text, _html = mail_text(case, "decision_final", language)
    assert EmailDelivery.objects.filter(case=case, kind="decision_final").count() == 1
    assert {"en": "The time to appeal the decision on your refund request",
            "zh-hans": "提出申诉的期限已过"}[language] in text
    for words in MAIL_SAYS[language]:
        assert words in text


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("ending", [
    pytest.param(rejected, id="rejected, may still appeal"),
    pytest.param(withdrawn, id="withdrawn"),
    pytest.param(closed_after_info_deadline, id="closed: information not sent"),
])
def test_no_other_ending_says_the_desk_is_done(client, ending, language):
    # given a case that ended (or paused) any other way
    case = ending(reviewed_case())

    # then neither its page nor /track nor its mails speak of a final decision
    for html in (case_page(client, case, language), track_page(client, case, language)):
        assert SAYS[language][0] not in html and "12315" not in html
    for delivery in EmailDelivery.objects.filter(case=case):
        delivery.language = language
        _subject, text, _html = compose(delivery)
        assert MAIL_SAYS[language][0] not in text and "12315" not in text


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refunded_case_does_not_say_the_desk_is_done(client, language):
    # given a VPN refund approved at once and paid
    case = pay(vpn_case(with_login=True))
    assert case.state == "refunded"

    # then its page, /track and its mails say nothing of a final "no"
    for html in (case_page(client, case, language), track_page(client, case, language)):
        assert SAYS[language][0] not in html and "12315" not in html
    for delivery in EmailDelivery.objects.filter(case=case):
        delivery.language = language
        _subject, text, _html = compose(delivery)
        assert "12315" not in text
