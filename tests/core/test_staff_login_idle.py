"""Idle staff sessions end: a staff member who has made no request for longer than
REFUNDDESK_STAFF_IDLE_MINUTES is logged out; customers are not."""

import time

import pytest
from django.urls import reverse

from refunddesk.core.middleware import BACKGROUND_HEADER, LAST_ACTIVITY_KEY
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for, server_order
from tests.staff import staff_member

EN = {"Accept-Language": "en"}
CONSOLE = reverse("console:queue")
MINUTE = 60


@pytest.fixture
def agent_client(client, db):
    user = staff_member("agent", "agent", password="agent-password-2026")
    with_totp(user)
    client.force_login(user)
    return client


@pytest.fixture
def customer_client(client, db):
    order = server_order("TC-CAROL-1", "acct-carol", "carol@example.com")
    client.force_login(customer_for(order.account))
    return client


def last_active(client, minutes_ago):
    """As if the session's last request was `minutes_ago` minutes ago."""
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time() - minutes_ago * MINUTE)
    session.save()


def is_logged_in(client):
    return "_auth_user_id" in client.session


def test_a_staff_session_idle_for_longer_than_the_limit_is_logged_out(agent_client):
    last_active(agent_client, 31)

    response = agent_client.get(CONSOLE, headers=EN)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{reverse('account_login')}?next={CONSOLE}"
    assert not is_logged_in(agent_client)
    page = agent_client.get(response.headers["Location"], headers=EN).content.decode()
    assert "You were logged out after 30 minutes without activity" in page


def test_a_staff_session_used_within_the_limit_goes_on(agent_client):
    last_active(agent_client, 29)

    assert agent_client.get(CONSOLE).status_code == 200
    assert is_logged_in(agent_client)


def test_each_request_starts_the_idle_time_again(agent_client):
    last_active(agent_client, 20)
    agent_client.get(CONSOLE)

    last_seen = agent_client.session[LAST_ACTIVITY_KEY]

    assert time.time() - last_seen < MINUTE


def test_the_last_activity_is_written_at_most_once_a_minute(agent_client):
    last_active(agent_client, 0.5)
    before = agent_client.session[LAST_ACTIVITY_KEY]

    agent_client.get(CONSOLE)

    assert agent_client.session[LAST_ACTIVITY_KEY] == before


def test_the_limit_comes_from_the_setting(agent_client, settings):
    settings.REFUNDDESK_STAFF_IDLE_MINUTES = 5
    last_active(agent_client, 6)

    assert agent_client.get(CONSOLE).status_code == 302
    assert not is_logged_in(agent_client)


def test_a_customer_session_idle_for_hours_is_not_logged_out(customer_client):
    last_active(customer_client, 8 * 60)

    response = customer_client.get(reverse("portal:account"))

    assert response.status_code == 200
    assert is_logged_in(customer_client)


def test_a_customer_session_records_no_staff_activity(customer_client):
    customer_client.get(reverse("portal:account"))

    assert LAST_ACTIVITY_KEY not in customer_client.session


def test_a_page_refreshing_itself_does_not_keep_the_session_alive(agent_client):
    last_active(agent_client, 20)
    before = agent_client.session[LAST_ACTIVITY_KEY]

    agent_client.get(CONSOLE, headers={BACKGROUND_HEADER: "1", "HX-Request": "true"})

    assert agent_client.session[LAST_ACTIVITY_KEY] == before


def test_an_htmx_request_after_the_limit_loads_the_login_page_as_a_whole_page(agent_client):
    last_active(agent_client, 31)

    response = agent_client.get(CONSOLE, headers={BACKGROUND_HEADER: "1", "HX-Request": "true"})

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"{reverse('account_login')}?next={CONSOLE}"
    assert not is_logged_in(agent_client)
