"""Customer login with django-allauth: e-mail and password, or a code sent by e-mail; no
sign-up; failed logins are rate-limited."""

import re
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.portal.builders import PASSWORD

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def test_a_customer_logs_in_with_e_mail_and_password_and_lands_on_my_account(client, alice):
    response = client.post(reverse("account_login"),
                           {"login": "alice@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:account")
    assert client.get(reverse("portal:account")).status_code == 200


def test_a_stranger_is_brought_back_to_the_page_they_wanted_after_logging_in(client, alice):
    wanted = reverse("portal:refunds")
    login = client.get(wanted).headers["Location"]

    response = client.post(login, {"login": "alice@example.com", "password": PASSWORD})

    assert response.headers["Location"] == wanted


def test_a_wrong_password_is_refused(client, alice):
    response = client.post(reverse("account_login"),
                           {"login": "alice@example.com", "password": "wrong"}, headers=EN)

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get(reverse("portal:account")).status_code == 302


def test_the_login_page_is_in_chinese_and_looks_like_the_site(client, db):
    page = client.get(reverse("account_login")).content.decode()

    assert "site-header" in page  # the site's layout
    assert "登录" in page
    assert "密码" in page  # allauth's own field label, in its zh_Hans translation
    assert reverse("account_request_login_code") in page


def test_a_login_code_is_sent_by_e_mail_and_logs_the_customer_in(client, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    response = client.post(reverse("account_request_login_code"),
                           {"email": "alice@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body,
                     re.MULTILINE).group(1)
    confirmed = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert confirmed.status_code == 302
    assert client.get(reverse("portal:account")).status_code == 200


def test_no_code_is_sent_to_an_address_without_a_customer_login(client, db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    client.post(reverse("account_request_login_code"), {"email": "nobody@example.com"})

    assert mail.outbox == []


def test_failed_logins_are_rate_limited_even_when_the_password_is_then_right(client, alice):
    for _ in range(5):
        client.post(reverse("account_login"),
                    {"login": "alice@example.com", "password": "guess"})

    response = client.post(reverse("account_login"),
                           {"login": "alice@example.com", "password": PASSWORD}, headers=EN)

    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("portal:account")).status_code == 302


def test_nobody_can_sign_up(client, db):
    response = client.post(reverse("account_signup"),
                           {"email": "new@example.com", "password1": "a-good-password-1"})

    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert "site-header" in response.content.decode()  # inside the site's layout
    assert not get_user_model().objects.filter(email="new@example.com").exists()


def test_logging_out_asks_then_logs_out(alice_client):
    page = alice_client.get(reverse("account_logout"), headers=EN).content.decode()
    assert "Do you want to log out?" in page

    alice_client.post(reverse("account_logout"))

    assert alice_client.get(reverse("portal:account")).status_code == 302


def test_a_mail_server_that_is_down_gives_a_clear_message_not_a_server_error(
        client, alice, settings):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2

    response = client.post(reverse("account_request_login_code"),
                           {"email": "alice@example.com"}, headers=EN, follow=True)

    assert response.status_code == 200
    assert "We could not send the e-mail just now" in response.content.decode()
