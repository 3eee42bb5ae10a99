"""Failed logins slow an attacker down without locking the real person out: failures count
per client address, and per user at that address (core/login_throttle.py).

The finding this answers: anyone who knew a staff member's user name (and, for the codes,
their password) could fail from anywhere until allauth's per-user limit was reached, and
then the owner's right password and code were refused for minutes, wherever they were.
Addresses are simulated with REMOTE_ADDR (or the proxy's header, when configured).
"""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from refunddesk.core import totp
from refunddesk.core.demo_staff import demo_totp_code, ensure_demo_staff
from refunddesk.core.login_throttle import client_address

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
STRANGER, OWNER = "203.0.113.7", "198.51.100.23"
AGENT, AGENT_PASSWORD = "demo-agent", "agent-demo-2026"
TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.fixture
def demo_staff():
    return {login.username: login for login in ensure_demo_staff()}


def wrong_code(username=AGENT):
    """A code that is not the right one now, nor that of the half-minutes around now."""
    secret = {login.username: login.totp_secret for login in ensure_demo_staff()}[username]
    counter = int(time.time()) // 30
    near = {totp.code_of_step(secret, counter + step) for step in range(-3, 4)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


def post_password(client, address, login=AGENT, password=AGENT_PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password},
                       headers=EN, REMOTE_ADDR=address, **extra)


def post_code(client, address, code, **extra):
    return client.post(reverse("mfa_authenticate"), {"code": code}, headers=EN,
                       REMOTE_ADDR=address, **extra)


def logged_in_user(client):
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


def test_a_strangers_wrong_codes_from_one_address_do_not_lock_the_owner_out_elsewhere(
        demo_staff):
    # given a stranger at address A who has the agent's password, and fails the code 15 times
    stranger = Client()
    assert post_password(stranger, STRANGER).headers["Location"] == reverse("mfa_authenticate")
    for _ in range(15):
        response = post_code(stranger, STRANGER, wrong_code(AGENT))
        assert response.status_code == 200
    assert logged_in_user(stranger) is None

    # when the owner, at address B, logs in with the right password and code
    owner = Client()
    assert post_password(owner, OWNER).headers["Location"] == reverse("mfa_authenticate")
    response = post_code(owner, OWNER, demo_totp_code(AGENT))

    # then they are in the console
    assert response.headers["Location"] == reverse("console:queue")
    assert logged_in_user(owner).username == AGENT


def test_a_stranger_is_refused_after_five_wrong_codes_even_with_the_right_one(demo_staff):
    # given a stranger at address A past the password
    stranger = Client()
    post_password(stranger, STRANGER)

    # when they try five wrong codes, each is refused as wrong
    for _ in range(5):
        response = post_code(stranger, STRANGER, wrong_code(AGENT))
        assert "Incorrect code." in response.content.decode()

    # then the sixth attempt is refused as one too many, even with the right code
    response = post_code(stranger, STRANGER, demo_totp_code(AGENT))
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert logged_in_user(stranger) is None


def test_the_owner_logs_in_after_a_stranger_guessed_the_password_from_another_address(
        demo_staff):
    # given a stranger at address A who guessed the agent's password 15 times
    stranger = Client()
    for attempt in range(15):
        post_password(stranger, STRANGER, password=f"guess-{attempt}")

    # when the owner logs in at address B
    owner = Client()
    response = post_password(owner, OWNER)
    assert response.headers["Location"] == reverse("mfa_authenticate")
    response = post_code(owner, OWNER, demo_totp_code(AGENT))

    # then they are in
    assert response.headers["Location"] == reverse("console:queue")


def test_password_guessing_for_one_user_from_one_address_is_slowed_down(demo_staff):
    # given five wrong passwords for the agent from address A
    stranger = Client()
    for attempt in range(5):
        response = post_password(stranger, STRANGER, password=f"guess-{attempt}")
        assert TOO_MANY not in response.content.decode()

    # when the sixth try (the right password, as it happens) comes from A
    response = post_password(stranger, STRANGER)

    # then it is refused as one too many
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert "mfa" not in response.headers.get("Location", "")


def test_one_address_guessing_many_user_names_is_slowed_down(demo_staff):
    # given ten wrong passwords for ten different user names from address A in a minute
    stranger = Client()
    for attempt in range(10):
        post_password(stranger, STRANGER, login=f"someone-{attempt}", password="guess")

    # when A tries the agent's right password
    response = post_password(stranger, STRANGER)

    # then it is refused: the address, not only the user name, is limited
    assert TOO_MANY in response.content.decode()


def test_a_right_code_forgets_the_wrong_ones_before_it(demo_staff):
    # given the owner, at their address, mistyped their code four times then got it right
    owner = Client()
    post_password(owner, OWNER)
    for _ in range(4):
        post_code(owner, OWNER, wrong_code(AGENT))
    assert post_code(owner, OWNER, demo_totp_code(AGENT)).status_code == 302

    # when they log out, log in again and mistype their code four times more
    owner.post(reverse("account_logout"))
    post_password(owner, OWNER)
    for _ in range(4):
        response = post_code(owner, OWNER, wrong_code(AGENT))
        assert "Incorrect code." in response.content.decode()

    # then the right code is still taken (the next half-minute's: a code is taken once)
    assert post_code(owner, OWNER, demo_totp_code(AGENT, at=time.time() + 30)).status_code == 302


def test_behind_a_proxy_the_address_comes_from_its_header(demo_staff, settings):
    # given a reverse proxy that puts the client's address in X-Real-IP: every request
    # reaches the application from the proxy's own address
    settings.REFUNDDESK_CLIENT_IP_HEADER = "X-Real-IP"
    proxy = "127.0.0.1"
    stranger = Client()
    post_password(stranger, proxy, HTTP_X_REAL_IP=STRANGER)
    for _ in range(15):
        post_code(stranger, proxy, wrong_code(AGENT), HTTP_X_REAL_IP=STRANGER)

    # when the owner comes through the same proxy from another address
    owner = Client()
    post_password(owner, proxy, HTTP_X_REAL_IP=OWNER)
    response = post_code(owner, proxy, demo_totp_code(AGENT), HTTP_X_REAL_IP=OWNER)

    # then they are let in
    assert response.headers["Location"] == reverse("console:queue")


@pytest.mark.parametrize(("remote_addr", "counted_as"), [
    ("203.0.113.7", "203.0.113.7"),
    # one subscriber's IPv6 addresses all count as their /64
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
])
def test_failures_count_against_the_address_or_its_ipv6_network(rf, remote_addr, counted_as):
    assert client_address(rf.get("/", REMOTE_ADDR=remote_addr)) == counted_as


def test_a_password_thief_cannot_try_the_codes_from_many_addresses(demo_staff):
    # given someone with the agent's password, failing the code from address after address
    for number in range(30):
        thief = Client()
        address = f"203.0.113.{number + 10}"
        post_password(thief, address)
        post_code(thief, address, wrong_code(AGENT))

    # when they try once more from yet another address, even the right code is refused
    thief = Client()
    post_password(thief, "192.0.2.200")
    response = post_code(thief, "192.0.2.200", demo_totp_code(AGENT))

    # then the one user's wrong codes over all addresses are capped (30 an hour)
    assert TOO_MANY in response.content.decode()
    assert logged_in_user(thief) is None
