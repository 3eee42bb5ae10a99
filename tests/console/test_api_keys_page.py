"""The admin's API keys page: make a key (its secret shown once), list, revoke; nobody else
gets in."""

import pytest

from refunddesk.api.keys import digest, key_for
from refunddesk.api.models import ApiKey

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_an_admin_makes_a_key_and_sees_its_secret_once(staff_client):
    client = staff_client("admin")

    # when the admin makes a key with two scopes
    response = client.post("/console/api-keys/", {"name": "Billing console",
                                                  "scopes": ["cases:read", "cases:write"]},
                           **EN)

    # then the page shows the secret once, uncached; only its fingerprint is stored
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("rdk_") and secret in response.content.decode()
    key = ApiKey.objects.get()
    assert (key.name, key.scopes, key.key_hash) == (
        "Billing console", ["cases:read", "cases:write"], digest(secret))
    assert key_for(secret) == key

    # and the list page afterwards never shows it again
    again = client.get("/console/api-keys/", **EN)
    assert secret not in again.content.decode()
    assert key.prefix in again.content.decode()


def test_a_key_without_a_name_or_scope_is_refused_and_nothing_is_made(staff_client):
    client = staff_client("admin")
    response = client.post("/console/api-keys/", {"name": " ", "scopes": []}, **EN)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scopes"}
    assert not ApiKey.objects.exists()


def test_an_admin_revokes_a_key_and_it_stops_working(staff_client):
    client = staff_client("admin")
    made = client.post("/console/api-keys/", {"name": "Old", "scopes": ["cases:read"]}, **EN)
    secret, key = made.context["secret"], ApiKey.objects.get()

    response = client.post(f"/console/api-keys/{key.pk}/revoke/", **EN)

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key_for(secret) is None


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_are_refused(staff_client, role):
    client = staff_client(role)
    assert client.get("/console/api-keys/").status_code == 403
    assert client.post("/console/api-keys/", {"name": "x", "scopes": ["cases:read"]}
                       ).status_code == 403
    assert not ApiKey.objects.exists()


def test_a_stranger_is_sent_to_log_in(client):
    response = client.get("/console/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_command_line_makes_a_key_and_prints_its_secret_once():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("make_api_key", name="Nightly export", scopes=["cases:read"], stdout=out,
                 stderr=io.StringIO())
    assert key_for(out.getvalue().strip()).name == "Nightly export"
