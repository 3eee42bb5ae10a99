"""Which cases reach a final "no", which country's text applies to them, and how the texts
fall back: the country's in the language, the default of the language, then English, then a
sentence of our own."""

import pytest
from django.utils import timezone

from refunddesk.cases.models import RefundCase
from refunddesk.recourse.editing import DEMO_TEXTS, ensure_demo_texts
from refunddesk.recourse.models import RecourseText
from refunddesk.recourse.texts import country_of, final_no, is_final_no, recourse_text
from tests.recourse.builders import (
    closed_after_appeal,
    closed_after_appeal_window,
    closed_after_info_deadline,
    rejected,
    reviewed_case,
    withdrawn,
)

pytestmark = pytest.mark.django_db


def write(country, language, text):
    RecourseText.objects.create(country=country, language=language, text=text,
                                updated_at=timezone.now())


def test_a_case_closed_after_a_rejected_appeal_is_a_final_no():
    case = closed_after_appeal(reviewed_case())

    assert is_final_no(case)
    assert final_no(case, "en").is_after_appeal


def test_a_rejection_nobody_appealed_in_time_is_a_final_no():
    case = closed_after_appeal_window(reviewed_case())

    assert is_final_no(case)
    assert not final_no(case, "en").is_after_appeal


@pytest.mark.parametrize("ending", [
    pytest.param(lambda case: case, id="in review"),
    pytest.param(rejected, id="rejected, may still appeal"),
    pytest.param(withdrawn, id="withdrawn"),
    pytest.param(closed_after_info_deadline, id="closed: information not sent"),
])
def test_no_other_case_is_a_final_no(ending):
    case = ending(reviewed_case())

    assert not is_final_no(case)
    assert final_no(case, "en") is None


def test_the_country_is_the_one_of_the_policys_business_calendar():
    # the VPN preset counts business days on China's calendar
    assert country_of(reviewed_case()) == "CN"


def test_a_policy_without_a_country_calendar_uses_the_default_entry():
    case = reviewed_case()
    RefundCase.objects.filter(pk=case.pk).update(policy_ref="no-such-policy@1")
    case.refresh_from_db()

    assert country_of(case) == "default"


def test_the_countrys_text_in_the_language_comes_first():
    ensure_demo_texts()

    assert "12315" in recourse_text("CN", "zh-hans") and "平台" in recourse_text("CN", "zh-hans")
    assert "hotline 12315" in recourse_text("CN", "en")


def test_a_country_without_a_text_gets_the_default_of_the_language():
    ensure_demo_texts()

    assert recourse_text("DE", "en") == "You may contact the consumer protection authority " \
                                        "of your country."
    assert recourse_text("DE", "zh-hans") == "您可以联系您所在国家或地区的消费者保护机构。"


def test_without_a_text_in_the_language_the_english_one_is_shown():
    # given English texts only: China's and the default
    write("CN", "en", "Call 12315.")
    write("default", "en", "Ask your consumer body.")

    # then a Chinese reader gets the country's English text, else the default English one
    assert recourse_text("CN", "zh-hans") == "Call 12315."
    assert recourse_text("DE", "zh-hans") == "Ask your consumer body."


def test_the_default_of_the_language_comes_before_the_countrys_english_text():
    write("CN", "en", "Call 12315.")
    write("default", "zh-Hans", "请联系当地消费者保护机构。")

    assert recourse_text("CN", "zh-hans") == "请联系当地消费者保护机构。"


def test_without_any_text_a_general_sentence_in_the_language_is_shown():
    assert recourse_text("CN", "en") == ("You may contact the consumer protection authority "
                                         "of your country.")
    assert recourse_text("CN", "zh-hans") == "您可以联系您所在国家或地区的消费者保护机构。"


def test_the_demo_texts_are_written_once_and_an_edited_one_stays_as_edited():
    ensure_demo_texts()
    RecourseText.objects.filter(country="CN", language="en").update(text="Edited.")

    ensure_demo_texts()

    assert RecourseText.objects.count() == len(DEMO_TEXTS)
    assert RecourseText.objects.get(country="CN", language="en").text == "Edited."
