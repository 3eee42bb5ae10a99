"""The administration's login goes through the same login and second factor as the
console, so /admin/login/ is no way around TOTP."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_login_page_sends_staff_to_the_login_with_the_second_factor(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_posting_a_password_to_the_admin_login_does_not_log_in(client, make_staff):
    user = make_staff("admin", "admin-x")

    client.post("/admin/login/", {"username": "admin-x", "password": "admin-x-password-2026",
                                  "next": "/console/"})

    assert client.get("/console/").status_code == 302  # still asked to log in
    assert user.is_authenticated  # (the user object itself is always "authenticated")
