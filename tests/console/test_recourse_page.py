"""The admin's page of the texts shown after a final decision: only admins (by role) reach
it; a text is written, changed and removed there, each change recorded with who, when,
before and after; bad input is refused and changes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from refunddesk.cases.errors import NotPermitted
from refunddesk.recourse.editing import RecourseError, ensure_demo_texts, save_text
from refunddesk.recourse.models import RecourseText, RecourseTextChange
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for, vpn_order

pytestmark = pytest.mark.django_db

URL = reverse("console:recourse_texts")
EN = {"Accept-Language": "en"}


def texts():
    return {(t.country, t.language): t.text for t in RecourseText.objects.all()}


# -- who gets in ------------------------------------------------------------------------------

def test_an_admin_opens_the_page_and_sees_the_texts_by_country_and_language(staff_client):
    # given the demo's texts and an admin
    ensure_demo_texts()
    client = staff_client("admin")

    # when they open the page
    response = client.get(URL, headers=EN)

    # then every text is listed with its country named, and the console links to it
    page = response.content.decode()
    assert response.status_code == 200
    assert "China" in page and "Every other country (default)" in page
    assert "hotline 12315" in page and "消费者投诉举报电话 12315" in page
    assert f'href="{URL}"' in page


def test_the_page_is_in_chinese_for_a_chinese_admin(staff_client):
    ensure_demo_texts()
    client = staff_client("admin")

    page = client.get(URL, headers={"Accept-Language": "zh-hans"}).content.decode()

    assert "最终决定之后" in page and "中国" in page


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_of_other_roles_are_refused(staff_client, role):
    client = staff_client(role)

    get = client.get(URL, headers=EN)
    post = client.post(URL, {"country": "CN", "language": "en", "text": "Mine."}, headers=EN)

    assert get.status_code == post.status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("console:queue"), headers=EN).content.decode()
    assert not RecourseText.objects.exists()


def test_a_superuser_without_the_admin_role_is_refused(client, db):
    user = get_user_model().objects.create_user("root", "root@staff.example", "x",
                                                is_staff=True, is_superuser=True)
    with_totp(user)
    client.force_login(user)

    response = client.post(URL, {"country": "CN", "language": "en", "text": "Mine."})

    assert response.status_code == 403
    assert not RecourseText.objects.exists()


def test_a_stranger_is_sent_to_log_in_and_a_customer_is_refused(client, db):
    stranger = client.get(URL)
    assert stranger.status_code == 302 and "/accounts/login/" in stranger["Location"]

    order = vpn_order("VPN-CUST-1", "acct-cust", "cust@example.com")
    client.force_login(customer_for(order.account))
    customer = client.post(URL, {"country": "CN", "language": "en", "text": "Mine."})

    assert customer.status_code == 403
    assert not RecourseText.objects.exists()


# -- writing, changing, removing --------------------------------------------------------------

def test_an_admin_writes_a_text_and_the_change_is_recorded(staff_client):
    # given an admin
    client = staff_client("admin")

    # when they write the text for Germany in English
    response = client.post(URL, {"country": "de", "language": "en",
                                 "text": "  Contact the Verbraucherzentrale.  "}, headers=EN)

    # then it is saved (the code in capitals, the text trimmed), and recorded with who
    assert response.status_code == 302
    assert texts() == {("DE", "en"): "Contact the Verbraucherzentrale."}
    change = RecourseTextChange.objects.get()
    assert (change.changed_by, change.country, change.language) == (client.user, "DE", "en")
    assert (change.text_before, change.text_after) == ("", "Contact the Verbraucherzentrale.")
    page = client.get(URL, headers=EN).content.decode()
    assert "The text for Germany in English is saved." in page
    assert client.user.get_username() in page.split("Changes</h2>")[1]


def test_changing_a_text_records_before_and_after(staff_client):
    ensure_demo_texts()
    client = staff_client("admin")
    before = texts()[("CN", "en")]

    client.post(URL, {"country": "CN", "language": "en", "text": "Call 12315."})

    assert texts()[("CN", "en")] == "Call 12315."
    change = RecourseTextChange.objects.get()
    assert (change.text_before, change.text_after) == (before, "Call 12315.")


def test_the_edit_link_fills_the_form_with_the_text(staff_client):
    ensure_demo_texts()
    client = staff_client("admin")

    page = client.get(URL, {"country": "CN", "language": "zh-Hans"}).content.decode()

    form = page.split('id="text-form"')[1]
    assert 'value="CN"' in form and "消费者投诉举报电话 12315" in form


def test_an_empty_text_removes_the_entry_and_is_recorded(staff_client):
    ensure_demo_texts()
    client = staff_client("admin")

    client.post(URL, {"country": "default", "language": "en", "text": ""})

    assert ("default", "en") not in texts()
    change = RecourseTextChange.objects.get()
    assert change.text_after == "" and "consumer protection authority" in change.text_before


def test_saving_the_same_text_records_nothing(staff_client):
    ensure_demo_texts()
    client = staff_client("admin")

    response = client.post(URL, {"country": "CN", "language": "en",
                                 "text": texts()[("CN", "en")]}, headers=EN, follow=True)

    assert "Nothing changed" in response.content.decode()
    assert not RecourseTextChange.objects.exists()


@pytest.mark.parametrize("country", ["China", "XX", "C1", ""])
def test_a_country_that_is_no_iso_code_is_refused_and_nothing_changes(staff_client, country):
    client = staff_client("admin")

    response = client.post(URL, {"country": country, "language": "en", "text": "Text."},
                           headers=EN)

    assert response.status_code == 400
    assert not RecourseText.objects.exists() and not RecourseTextChange.objects.exists()
    if country:
        assert "two-letter code (ISO 3166)" in response.content.decode()


def test_a_language_other_than_chinese_or_english_is_refused(staff_client):
    client = staff_client("admin")

    response = client.post(URL, {"country": "CN", "language": "fr", "text": "Texte."})

    assert response.status_code == 400
    assert not RecourseText.objects.exists()


def test_the_action_refuses_anyone_but_an_admin(make_staff):
    for role in ("agent", "reviewer", "finance"):
        with pytest.raises(NotPermitted):
            save_text(country="CN", language="en", text="x", actor=make_staff(role))
    with pytest.raises(NotPermitted):
        save_text(country="CN", language="en", text="x", actor=None)

    assert not RecourseText.objects.exists()


def test_the_action_refuses_a_text_too_long(make_staff):
    with pytest.raises(RecourseError):
        save_text(country="CN", language="en", text="x" * 2001, actor=make_staff("admin"))

    assert not RecourseText.objects.exists()
