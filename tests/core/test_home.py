"""The home page says what RefundDesk is, in Chinese by default and in English on request."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_is_in_chinese_by_default(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert "退款" in response.content.decode()


def test_the_home_page_speaks_english_when_the_browser_asks_for_it(client):
    response = client.get("/", headers={"Accept-Language": "en"})

    assert "Refunds without the spreadsheet" in response.content.decode()


def test_the_language_switch_remembers_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert "Refunds without the spreadsheet" in client.get("/").content.decode()


def test_the_home_page_links_to_the_administration(client):
    assert reverse("admin:index") in client.get("/").content.decode()


def test_the_stylesheet_the_home_page_links_is_served(client):
    page = client.get("/").content.decode()
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)

    response = client.get(stylesheet)

    assert response.status_code == 200
    assert "".join(chunk.decode() for chunk in response.streaming_content).strip()


def test_the_home_page_refuses_a_post(client):
    assert client.post("/").status_code == 405


def test_the_health_check_answers_when_the_database_does(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_administration_asks_a_stranger_to_log_in(client):
    response = client.get("/admin/billing/order/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login/")
