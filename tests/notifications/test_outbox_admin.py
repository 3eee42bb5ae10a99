"""Staff read the outbox in the administration: every delivery, filtered by status and
kind, with what the mail says; nobody edits the log, and customers are kept out."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from refunddesk.core import totp
from refunddesk.notifications.models import EmailDelivery, Status
from tests.notifications.conftest import submit_case

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/emaildelivery/"


@pytest.fixture
def case():
    case = submit_case("en")
    EmailDelivery.objects.filter(case=case, kind="decided").update(
        status=Status.FAILED, attempts=6, last_error="SMTPDataError: (554, b'refused')")
    return case


@pytest.fixture
def staff_client(client):
    agent = get_user_model().objects.create_user("agent", "agent@example.com", "pw",
                                                 is_staff=True)
    agent.user_permissions.add(Permission.objects.get(codename="view_emaildelivery"))
    totp.activate(agent, totp.new_secret())  # the administration wants a second factor
    client.force_login(agent)
    return client


def test_staff_see_every_delivery_and_filter_the_failed_ones(staff_client, case):
    # when a staff member opens the outbox, then filters it to failed deliveries
    everything = staff_client.get(CHANGELIST)
    failed = staff_client.get(CHANGELIST, {"status__exact": "failed"})

    # then the list shows both deliveries, and the filter only the failed one
    assert everything.status_code == 200
    assert sorted(d.kind for d in everything.context["cl"].result_list) == [
        "decided", "submitted"]
    assert [d.kind for d in failed.context["cl"].result_list] == ["decided"]
    assert "li.lei@example.com" in everything.content.decode()


def test_a_delivery_shows_its_log_and_what_the_mail_says_but_cannot_be_edited(
        staff_client, case):
    # given the failed delivery
    delivery = EmailDelivery.objects.get(case=case, kind="decided")

    # when staff open it
    page = staff_client.get(f"{CHANGELIST}{delivery.pk}/change/")

    # then its error and the text of the mail are shown, with no form to save
    html = page.content.decode()
    assert page.status_code == 200
    assert "SMTPDataError" in html
    assert case.tracking_number in html
    assert "CN¥900.00 will be paid back" in html
    assert 'name="_save"' not in html
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_client.post(f"{CHANGELIST}{delivery.pk}/delete/").status_code == 403


def test_a_customer_cannot_open_the_outbox(client, case):
    # given a logged-in customer who is not staff
    customer = get_user_model().objects.create_user("li.lei", "li.lei@example.com", "pw")
    client.force_login(customer)

    # when they open the outbox, then they are sent to the staff login instead
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
