"""Canned replies: admins (by role) write, change, retire and offer again reply templates in
Chinese and English with the placeholders {customer_name}, {amount} and {tracking_number};
an unknown placeholder is a form error naming it and saves nothing. Agents insert a reply
into a message or a rejection on the case page, filled in for the case in its language;
without JavaScript through ?into=…&reply=…, which prefills the form."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.errors import NotPermitted
from refunddesk.core.money import format_money
from refunddesk.replies.editing import ReplyError, save_reply
from refunddesk.replies.models import CannedReply
from refunddesk.replies.placeholders import fill, unknown_placeholders
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for, server_order

pytestmark = pytest.mark.django_db

LIST = reverse("console:replies")
NEW = reverse("console:reply_new")
EN = {"Accept-Language": "en"}

ZH_TEXT = "{customer_name}您好，您的退款申请 {tracking_number} 金额为 {amount}。"
EN_TEXT = "Dear {customer_name}, your request {tracking_number} is for {amount}."


def a_reply(title="Amount confirmed", *, is_active=True):
    return CannedReply.objects.create(title=title, text_zh=ZH_TEXT, text_en=EN_TEXT,
                                      is_active=is_active, updated_at=timezone.now())


def case_url(case):
    return reverse("console:case", args=[case.tracking_number])


def amount_of(case):
    """The case's amount as its customer reads it (core/money.py)."""
    return format_money(case.assessed_total_minor, case.currency, language=case.language)


@pytest.fixture
def chinese_case(db):
    order = server_order("TC-ZH-1", "acct-zh", "zh@example.com", started_days_ago=30)
    customer = customer_for(order.account)
    return actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language="zh-hans")


# -- the admin's pages ---------------------------------------------------------------------

def test_an_admin_writes_a_reply_in_both_languages_and_sees_it_listed(staff_client):
    client = staff_client("admin")

    response = client.post(NEW, {"title": "Amount confirmed", "text_zh": ZH_TEXT,
                                 "text_en": EN_TEXT}, headers=EN)

    assert response.status_code == 302 and response["Location"] == LIST
    reply = CannedReply.objects.get()
    assert (reply.title, reply.text_zh, reply.text_en) == ("Amount confirmed", ZH_TEXT,
                                                           EN_TEXT)
    assert reply.is_active and reply.updated_by == client.user
    page = client.get(LIST, headers=EN).content.decode()
    assert "Amount confirmed" in page and "Dear {customer_name}" in page
    assert "The canned reply “Amount confirmed” is saved." in page


def test_an_admin_changes_a_reply(staff_client):
    reply = a_reply()
    client = staff_client("admin")
    url = reverse("console:reply_edit", args=[reply.pk])
    assert EN_TEXT in client.get(url, headers=EN).content.decode()

    client.post(url, {"title": "Amount", "text_zh": "{amount}", "text_en": "It is {amount}."},
                headers=EN)

    reply.refresh_from_db()
    assert (reply.title, reply.text_zh, reply.text_en) == ("Amount", "{amount}",
                                                           "It is {amount}.")


def test_an_unknown_placeholder_is_a_form_error_naming_it_and_nothing_is_saved(staff_client):
    client = staff_client("admin")

    response = client.post(NEW, {"title": "Typo", "text_zh": ZH_TEXT,
                                 "text_en": "Dear {customer}, see {tracking_no}."}, headers=EN)

    page = response.content.decode()
    assert response.status_code == 400
    assert "Unknown placeholder {customer}, {tracking_no}" in page
    assert "{customer_name}, {amount}, {tracking_number}" in page
    assert not CannedReply.objects.exists()


def test_a_stray_brace_is_a_form_error(staff_client):
    client = staff_client("admin")

    response = client.post(NEW, {"title": "Typo", "text_zh": "{customer_name 您好",
                                 "text_en": EN_TEXT}, headers=EN)

    assert response.status_code == 400
    assert "encloses no placeholder" in response.content.decode()
    assert not CannedReply.objects.exists()


def test_a_retired_reply_is_listed_apart_and_can_be_offered_again(staff_client):
    reply = a_reply()
    client = staff_client("admin")

    client.post(reverse("console:reply_retire", args=[reply.pk]), headers=EN)
    reply.refresh_from_db()
    assert not reply.is_active
    assert "Offer again" in client.get(LIST, headers=EN).content.decode()

    client.post(reverse("console:reply_restore", args=[reply.pk]), headers=EN)
    reply.refresh_from_db()
    assert reply.is_active


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_of_other_roles_are_refused_and_change_nothing(staff_client, role):
    reply = a_reply()
    client = staff_client(role)

    answers = [client.get(LIST), client.get(NEW),
               client.post(NEW, {"title": "Mine", "text_zh": "x", "text_en": "x"}),
               client.post(reverse("console:reply_edit", args=[reply.pk]),
                           {"title": "Mine", "text_zh": "x", "text_en": "x"}),
               client.post(reverse("console:reply_retire", args=[reply.pk]))]

    assert [answer.status_code for answer in answers] == [403] * 5
    reply.refresh_from_db()
    assert reply.title == "Amount confirmed" and reply.is_active
    assert CannedReply.objects.count() == 1


def test_a_superuser_without_the_admin_role_is_refused(client, db):
    user = get_user_model().objects.create_user("root", "root@staff.example", "x",
                                                is_staff=True, is_superuser=True)
    with_totp(user)
    client.force_login(user)

    assert client.post(NEW, {"title": "Mine", "text_zh": "x", "text_en": "x"}).status_code == 403
    assert not CannedReply.objects.exists()


def test_a_stranger_is_sent_to_log_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_saving_checks_the_role_and_the_placeholders_again(make_staff):
    with pytest.raises(NotPermitted):
        save_reply(None, title="t", text_zh="x", text_en="x", actor=make_staff("agent"))
    with pytest.raises(ReplyError) as refused:
        save_reply(None, title="t", text_zh="{name}", text_en="x", actor=make_staff("admin"))
    assert refused.value.field == "text_zh" and "{name}" in refused.value.message
    assert not CannedReply.objects.exists()


def test_placeholders_are_filled_by_name_and_nothing_else_is_evaluated():
    assert unknown_placeholders("{amount} {customer_name.__class__} {0}") == [
        "customer_name.__class__", "0"]
    assert fill("{amount}, {amount}", {"amount": "1.00 CNY"}) == "1.00 CNY, 1.00 CNY"


# -- the agent's case page -----------------------------------------------------------------

def test_an_agent_is_offered_the_replies_filled_in_for_an_english_case(staff_client,
                                                                      case_in_review):
    a_reply()
    a_reply("Retired one", is_active=False)
    client = staff_client("agent")

    page = client.get(case_url(case_in_review), headers=EN).content.decode()

    expected = (f"Dear {case_in_review.account.name}, your request "
                f"{case_in_review.tracking_number} is for {amount_of(case_in_review)}.")
    assert page.count(f'data-text="{expected}"') == 2  # the message and the rejection
    assert "Retired one" not in page


def test_inserting_without_javascript_prefills_the_message_in_chinese(staff_client,
                                                                      chinese_case):
    reply = a_reply()
    client = staff_client("agent")

    page = client.get(case_url(chinese_case), {"into": "message", "reply": reply.pk},
                      headers=EN).content.decode()

    expected = (f"{chinese_case.account.name}您好，您的退款申请 {chinese_case.tracking_number} "
                f"金额为 {amount_of(chinese_case)}。")
    assert amount_of(chinese_case).startswith("¥") and "." in amount_of(chinese_case)
    assert f'id="id_message_body">\n{expected}</textarea>' in page
    assert '<details class="panel action" id="action-message" open>' in page


def test_inserting_without_javascript_prefills_the_rejection_in_english(staff_client,
                                                                        case_in_review):
    reply = a_reply()
    client = staff_client("agent")

    page = client.get(case_url(case_in_review), {"into": "reject", "reply": reply.pk},
                      headers=EN).content.decode()

    assert (f'id="id_reject_message">\nDear {case_in_review.account.name}, your request '
            f'{case_in_review.tracking_number} is for {amount_of(case_in_review)}.</textarea>'
            ) in page


def test_a_retired_reply_is_not_inserted(staff_client, case_in_review):
    reply = a_reply(is_active=False)
    client = staff_client("agent")

    page = client.get(case_url(case_in_review), {"into": "message", "reply": reply.pk},
                      headers=EN).content.decode()

    assert "That canned reply is no longer offered" in page
    assert "Dear " not in page


def test_finance_is_offered_no_replies(staff_client, case_in_review):
    reply = a_reply()
    client = staff_client("finance")

    page = client.get(case_url(case_in_review), {"into": "message", "reply": reply.pk},
                      headers=EN).content.decode()

    assert "data-reply-insert" not in page and "Dear " not in page


def test_the_demo_replies_pass_their_own_placeholder_check_and_are_not_added_twice():
    from refunddesk.replies.demo import DEMO_REPLIES, ensure_demo_replies
    from refunddesk.replies.editing import text_problem

    assert all(not text_problem(zh) and not text_problem(en) for _t, zh, en in DEMO_REPLIES)
    ensure_demo_replies()
    ensure_demo_replies()
    assert CannedReply.objects.count() == len(DEMO_REPLIES)


def test_the_console_menu_leads_admins_to_the_canned_replies_and_not_agents(staff_client):
    replies = reverse("console:replies")

    admin_page = staff_client("admin").get(reverse("console:queue"), follow=True)
    agent_page = staff_client("agent").get(reverse("console:queue"), follow=True)

    assert f'href="{replies}"' in admin_page.content.decode()
    assert f'href="{replies}"' not in agent_page.content.decode()
