"""/track: status by tracking number and e-mail, no login, same answer for every miss,
limited per IP address."""

import pytest
from django.core.cache import cache

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.tracking import check_symbol, format_grouped
from tests.cases.conftest import AFTER_FIVE_DAYS

pytestmark = pytest.mark.django_db

MISS = "No refund request matches this tracking number and e-mail address"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(order):
    return actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=AFTER_FIVE_DAYS)


def look_up(client, number, email, ip="10.0.0.1"):
    return client.post("/track", {"number": number, "email": email},
                       headers={"Accept-Language": "en"}, REMOTE_ADDR=ip)


def test_the_right_number_and_email_show_the_state(client, case):
    response = look_up(client, case.tracking_number.lower(), "LI.LEI@example.com")

    page = response.content.decode()
    assert response.status_code == 200
    assert case.tracking_number in page
    assert "In review" in page
    assert "Sent to an agent for review" in page


def test_an_unknown_number_and_a_wrong_email_get_the_same_answer(client, case):
    other = "23456789AB"
    unknown = look_up(client, format_grouped(other + check_symbol(other)), "li.lei@example.com")
    wrong_email = look_up(client, case.tracking_number, "someone@example.com")

    assert MISS in unknown.content.decode()
    assert MISS in wrong_email.content.decode()
    result = wrong_email.content.decode().split('id="track-result"')[1]
    assert case.tracking_number not in result  # only the number typed, echoed in the form
    assert unknown.status_code == wrong_email.status_code == 200


def test_a_mistyped_number_is_reported_as_a_typo_without_a_lookup(client, case):
    typo = case.tracking_number[:-1] + ("2" if case.tracking_number[-1] != "2" else "3")

    response = look_up(client, typo, "li.lei@example.com")

    assert "This is not a tracking number" in response.content.decode()


def test_lookups_are_limited_per_ip_address(client, case, settings):
    settings.TRACK_LOOKUPS_PER_IP = 3
    for _ in range(3):
        assert look_up(client, case.tracking_number, "x@example.com").status_code == 200

    limited = look_up(client, case.tracking_number, "li.lei@example.com")
    elsewhere = look_up(client, case.tracking_number, "li.lei@example.com", ip="10.0.0.2")

    assert limited.status_code == 429
    assert case.tracking_number not in limited.content.decode().split("</form>")[-1]
    assert elsewhere.status_code == 200


def test_the_link_in_the_email_fills_in_the_number(client, case):
    response = client.get(f"/track?number={case.tracking_number}")

    assert f'value="{case.tracking_number}"' in response.content.decode()
