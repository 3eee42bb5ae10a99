"""Who reaches the console: staff of every role with a second factor; nobody else.

Staff log in through the same login page as customers (user name or e-mail), then allauth
asks for the TOTP code; a staff member without an authenticator is sent to set one up.
"""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from refunddesk.core import totp
from tests.console.conftest import ROLES, with_totp
from tests.portal.builders import customer_for
from tests.staff import staff_member

EN = {"Accept-Language": "en"}
CONSOLE = reverse("console:queue")
PASSWORD = "a-staff-password-2026"


def current_code(secret):
    """The code an authenticator app shows now for `secret`."""
    return totp.code_at(secret, time.time())


def a_wrong_code(secret):
    right = current_code(secret)
    # Not the code of the half-minutes around now either (the server accepts those too).
    near = {totp.code_of_step(secret, int(time.time()) // 30 + step)
            for step in (-2, -1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in near | {right})


def user_of(client):
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


@pytest.fixture
def staff_without_totp(db):
    return staff_member("agent-new", "agent", password=PASSWORD)


@pytest.fixture
def staff_with_totp(db):
    """A reviewer with a password and an authenticator app; `.secret` is its secret."""
    user = staff_member("rita", "reviewer", password=PASSWORD)
    user.secret = with_totp(user)
    return user


def log_in(client, login, password=PASSWORD, **query):
    url = reverse("account_login")
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(url, {"login": login, "password": password}, headers=EN)


# -- who is let in ----------------------------------------------------------------------------

def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(client, db):
    response = client.get(CONSOLE)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{reverse('account_login')}?next={CONSOLE}"


def test_a_customer_session_is_refused_the_console(client, alice_order):
    client.force_login(customer_for(alice_order.account))

    response = client.get(CONSOLE, headers=EN)

    assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_staff_of_every_role_with_a_second_factor_reach_the_console(staff_client, role):
    response = staff_client(role).get(CONSOLE)

    assert response.status_code == 200
    assert "console" in response.content.decode()


def test_a_staff_login_without_a_role_is_refused(client, db):
    user = staff_member("no-role", password=PASSWORD)
    with_totp(user)
    client.force_login(user)

    assert client.get(CONSOLE).status_code == 403


def test_a_staff_member_without_a_second_factor_is_sent_to_set_one_up(
        client, staff_without_totp):
    client.force_login(staff_without_totp)

    response = client.get(CONSOLE, headers=EN)

    assert response.status_code == 302
    assert response.headers["Location"] == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_index"), headers=EN).content.decode()
    assert "The console requires two-factor login" in page


def test_without_the_staff_mfa_setting_a_staff_member_without_a_second_factor_gets_in(
        client, staff_without_totp, settings):
    settings.REFUNDDESK_STAFF_MFA = False
    client.force_login(staff_without_totp)

    assert client.get(CONSOLE).status_code == 200


# -- logging in -------------------------------------------------------------------------------

def test_a_staff_member_logs_in_with_user_name_password_and_code_and_lands_in_the_console(
        client, staff_with_totp):
    response = log_in(client, "rita")

    assert response.headers["Location"] == reverse("mfa_authenticate")
    assert user_of(client) is None  # not logged in before the code
    assert client.get(CONSOLE).status_code == 302

    response = client.post(reverse("mfa_authenticate"),
                           {"code": current_code(staff_with_totp.secret)})

    assert response.status_code == 302
    assert response.headers["Location"] == CONSOLE
    assert client.get(CONSOLE).status_code == 200


def test_a_wrong_code_does_not_let_the_staff_member_in(client, staff_with_totp):
    log_in(client, "rita")

    response = client.post(reverse("mfa_authenticate"),
                           {"code": a_wrong_code(staff_with_totp.secret)}, headers=EN)

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert user_of(client) is None
    assert client.get(CONSOLE).status_code == 302


def test_logging_in_by_e_mail_asks_a_staff_member_for_the_code_too(client, staff_with_totp):
    response = log_in(client, "rita@staff.example")

    assert response.headers["Location"] == reverse("mfa_authenticate")
    assert user_of(client) is None


def test_logging_in_with_an_e_mailed_code_still_asks_a_staff_member_for_the_totp_code(
        client, staff_with_totp):
    client.post(reverse("account_request_login_code"), {"email": "rita@staff.example"})
    e_mailed = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body,
                         re.MULTILINE).group(1)

    response = client.post(reverse("account_confirm_login_code"), {"code": e_mailed})

    assert response.headers["Location"] == reverse("mfa_authenticate")
    assert user_of(client) is None
    response = client.post(reverse("mfa_authenticate"),
                           {"code": current_code(staff_with_totp.secret)})
    assert response.headers["Location"] == CONSOLE


def test_after_the_code_a_staff_member_is_brought_back_to_the_page_they_wanted(
        client, staff_with_totp):
    wanted = reverse("console:policies")
    log_in(client, "rita", next=wanted)

    response = client.post(reverse("mfa_authenticate"),
                           {"code": current_code(staff_with_totp.secret)})

    assert response.headers["Location"] == wanted


def test_a_customer_who_logs_in_still_lands_on_my_account(client, alice_order):
    customer_for(alice_order.account, password=PASSWORD)

    response = log_in(client, "alice@example.com")

    assert response.headers["Location"] == reverse("portal:account")


def test_a_staff_member_sets_up_the_authenticator_app_and_then_reaches_the_console(
        client, staff_without_totp):
    client.force_login(staff_without_totp)
    activate = client.get(CONSOLE).headers["Location"]
    # allauth asks for the password again before a second factor is changed.
    confirm = client.get(activate).headers["Location"]
    assert confirm.startswith(reverse("account_reauthenticate"))
    client.post(confirm, {"password": PASSWORD})

    page = client.get(activate, headers=EN).content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    assert "site-header" in page and 'class="stacked-form"' in page  # the site's layout
    assert "data:image/svg+xml;base64," in page  # the QR code
    assert re.search(rf'<code[^>]*id="authenticator-secret"[^>]*>{secret}</code>', page)

    response = client.post(activate, {"code": current_code(secret)}, headers=EN)

    assert response.headers["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=staff_without_totp,
                                        type=Authenticator.Type.TOTP).exists()
    codes_page = client.get(reverse("mfa_view_recovery_codes"), headers=EN).content.decode()
    assert "Continue to the console" in codes_page
    assert len(re.findall(r"<li>\d{8}</li>", codes_page)) == 10
    assert client.get(CONSOLE).status_code == 200


def test_setting_up_with_a_wrong_code_says_so_and_sets_nothing_up(client, staff_without_totp):
    client.force_login(staff_without_totp)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]

    response = client.post(reverse("mfa_activate_totp"), {"code": a_wrong_code(secret)},
                           headers=EN)

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert not Authenticator.objects.filter(user=staff_without_totp).exists()


# -- the second-factor pages look like the site -----------------------------------------------

def test_the_code_page_looks_like_the_site(client, staff_with_totp):
    log_in(client, "rita")

    page = client.get(reverse("mfa_authenticate"), headers=EN).content.decode()

    assert "site-header" in page
    assert 'class="entrance"' in page and "button-primary" in page
    assert "Enter the 6-digit code that your authenticator app shows" in page
    assert reverse("account_logout") in page  # cancel


def test_the_two_factor_settings_page_shows_the_console_menu_to_staff(staff_client):
    client = staff_client("agent")

    page = client.get(reverse("mfa_index"), headers=EN).content.decode()

    assert "console-nav" in page
    assert "Active: each login asks for a code" in page
    assert reverse("mfa_deactivate_totp") in page


def test_the_two_factor_settings_page_keeps_a_customer_in_the_portal_layout(
        client, alice_order):
    client.force_login(customer_for(alice_order.account))

    page = client.get(reverse("mfa_index"), headers=EN).content.decode()

    assert "console-nav" not in page
    assert "site-nav" in page
    assert "Not set up." in page
