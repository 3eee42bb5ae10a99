"""Refusals and missing pages look like the rest of the site and say why."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_customer_refused_by_the_console_sees_why_in_the_sites_layout(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("someone@example.com"))

    response = client.get("/console/", headers={"accept-language": "en"})

    page = response.content.decode()
    assert response.status_code == 403
    assert "The console is for RefundDesk staff." in page
    assert 'class="site-header"' in page


def test_a_missing_page_is_answered_in_the_sites_layout(client):
    response = client.get("/no-such-page", headers={"accept-language": "en"})

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
