"""The demo staff users have a second factor like all staff, and `refunddesk totp-code`
prints their current code so the demo can be tried without a phone."""

import time
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from refunddesk.core import totp
from refunddesk.core.demo_staff import DEMO_STAFF, demo_totp_code, ensure_demo_staff
from refunddesk.core.staff import ROLES
from tests.staff import staff_member

pytestmark = pytest.mark.django_db


def totp_code(*args):
    out = StringIO()
    call_command("totp-code", *args, stdout=out)
    return out.getvalue().strip()


def refused(*args):
    with pytest.raises(CommandError) as caught:
        totp_code(*args)
    assert caught.value.returncode == 2
    return str(caught.value)


def codes_around_now(secret):
    counter = int(time.time()) // 30
    return {totp.code_of_step(secret, counter + step) for step in (-1, 0, 1)}


def test_each_demo_staff_user_is_created_with_an_authenticator_of_its_own():
    logins = ensure_demo_staff()

    assert [(login.role, login.username) for login in logins] == list(DEMO_STAFF)
    assert {login.role for login in logins} == set(ROLES)
    secrets = [login.totp_secret for login in logins]
    assert all(secret and len(secret) == 32 for secret in secrets)
    assert len(set(secrets)) == len(secrets)
    for login in logins:
        user = get_user_model().objects.get(username=login.username)
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_the_demo_keeps_the_secrets_from_one_start_to_the_next():
    first = {login.username: login.totp_secret for login in ensure_demo_staff()}

    again = ensure_demo_staff()

    assert {login.username: login.totp_secret for login in again} == first
    assert not any(login.is_new for login in again)
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == len(DEMO_STAFF)


def test_a_demo_user_whose_authenticator_was_turned_off_has_no_secret_to_print():
    ensure_demo_staff()
    Authenticator.objects.filter(user__username="demo-finance").delete()

    logins = {login.username: login for login in ensure_demo_staff()}

    assert logins["demo-finance"].totp_secret is None
    assert logins["demo-agent"].totp_secret is not None


def test_totp_code_prints_the_code_the_demo_users_authenticator_shows_now():
    secret = {login.username: login.totp_secret for login in ensure_demo_staff()}["demo-agent"]

    code = totp_code("demo-agent")

    assert len(code) == 6 and code.isdigit()
    assert code in codes_around_now(secret)


def test_the_code_is_the_one_for_the_given_moment():
    secret = {login.username: login.totp_secret for login in ensure_demo_staff()}["demo-admin"]

    assert demo_totp_code("demo-admin", at=1_800_000_000) == totp.code_of_step(
        secret, 1_800_000_000 // 30)


def test_totp_code_refuses_anyone_but_the_demo_users():
    user = staff_member("rita", "reviewer")
    totp.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    message = refused("rita")

    assert "only for the demo staff users" in message
    assert "demo-agent" in message


def test_totp_code_says_so_when_the_demo_user_does_not_exist():
    assert "no such user" in refused("demo-agent")


def test_totp_code_says_so_when_the_demo_user_has_no_authenticator():
    ensure_demo_staff()
    Authenticator.objects.filter(user__username="demo-agent").delete()

    assert "no authenticator" in refused("demo-agent")


def test_the_demo_agent_logs_in_with_the_printed_code_and_reaches_the_console(client):
    ensure_demo_staff()
    client.post(reverse("account_login"),
                {"login": "demo-agent", "password": "agent-demo-2026"})

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code("demo-agent")})

    assert response.headers["Location"] == reverse("console:queue")
    assert client.get(reverse("console:queue")).status_code == 200
