"""The cases a run opens read well wherever a case is read: the console's case page, the
customer's page, tracking by number, the API; and every step of a run has its words."""

from django.test import Client
from django.urls import reverse
from django.utils import translation

from refunddesk.cases.models import RefundCase
from refunddesk.compensation.events import EVENT_FOR_TRANSITION, RunEventType, label
from refunddesk.compensation.states import TRANSITIONS
from tests.compensation.builders import approved_run, order, run_now, two_admins
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for
from tests.staff import staff_member


def compensated_case():
    placed = order(1)
    creator, approver = two_admins()
    run_now(approved_run(creator, approver), creator)
    return RefundCase.objects.get(channel="bulk"), placed


def test_the_console_shows_a_compensation_case_with_why_and_who_approved_it(db):
    case, _placed = compensated_case()
    agent = staff_member("agent-1", "agent")
    with_totp(agent)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)

    shown = client.get(reverse("console:case", args=[case.tracking_number]))

    assert shown.status_code == 200
    page = shown.content.decode()
    assert "Mass compensation" in page and "7.89" in page
    assert "Opened by a mass compensation" in page
    assert "RefundDesk (mass compensation)" in page


def test_the_customer_reads_their_compensation_case_and_tracks_it(db):
    case, placed = compensated_case()
    customer = customer_for(placed.account)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(customer)

    own = client.get(reverse("portal:case", args=[case.tracking_number]))
    tracked = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("portal:track"), {"number": case.tracking_number, "email": placed.account.email})

    assert own.status_code == 200
    # the decision note is written in the customer's language (theirs: Chinese), the
    # page's own words in the reader's
    assert "故障占用了 3 天" in own.content.decode()
    assert "Compensation for a service disruption" in own.content.decode()
    assert tracked.status_code == 200


def test_every_step_of_a_run_has_words_and_every_move_writes_one():
    with translation.override("en"):
        for kind in RunEventType:
            assert label(kind) and label(kind) != kind.value
    assert {action for (_state, action) in TRANSITIONS} == set(EVENT_FOR_TRANSITION)
    assert label("something_old") == "something old"
