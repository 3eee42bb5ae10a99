"""The site's layout around the portal: navigation, htmx, and the home page's links."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_stranger_sees_log_in_and_track_in_the_navigation(client):
    page = client.get("/").content.decode()

    assert reverse("account_login") in page
    assert reverse("portal:track") in page
    assert reverse("account_logout") not in page


def test_a_customer_sees_my_account_my_refunds_and_log_out(alice_client):
    page = alice_client.get(reverse("portal:account")).content.decode()

    for url in ("portal:account", "portal:refunds", "portal:track"):
        assert reverse(url) in page
    assert reverse("account_logout") in page
    assert 'aria-current="page"' in page


def test_the_home_page_links_to_the_portal(client):
    page = client.get("/", headers={"Accept-Language": "en"}).content.decode()

    for url in ("portal:account", "portal:refunds", "portal:track"):
        assert f'href="{reverse(url)}"' in page


def test_htmx_is_loaded_deferred_from_the_sites_own_static_files_and_served(client):
    page = client.get("/").content.decode()
    script = re.search(r'<script src="([^"]+htmx\.min\.js)" defer></script>', page).group(1)

    response = client.get(script)

    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)


def test_htmx_requests_carry_the_csrf_token(alice_client):
    page = alice_client.get(reverse("portal:account")).content.decode()

    assert re.search(r'<body[^>]* hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', page)
