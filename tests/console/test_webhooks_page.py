"""The admin's webhook pages: add an endpoint, see and roll its secret, change its events,
disable and enable it, follow its deliveries, read one delivery and send it again by hand
against a real local HTTP server. Every page refuses strangers, customers and other staff;
bad input is a form error that changes nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from refunddesk.notifications.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from refunddesk.notifications.webhook_events import emit
from refunddesk.notifications.webhook_sending import attempt_delivery
from tests.console.case_builders import EN
from tests.notifications.network_guard import (
    PUBLIC,
    allow_local_receivers,
    install_guard,
    install_stub_resolver,
)
from tests.notifications.webhook_receiver import nothing_listening, running_receiver, subscribe
from tests.portal.builders import customer_for, vpn_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network_guard(monkeypatch):
    """Any connection off this machine fails (tests/notifications/network_guard.py)."""
    return install_guard(monkeypatch)


@pytest.fixture(autouse=True)
def public_hosts(monkeypatch):
    """Webhook addresses resolve through a stub; the example hosts to a public address that
    nothing connects to."""
    stub = install_stub_resolver(monkeypatch)
    for host in ("billing.example.com", "old.example.com", "new.example.com"):
        stub.answers[host] = [PUBLIC]
    return stub


@pytest.fixture
def local_receivers_allowed(settings):
    allow_local_receivers(settings)


@pytest.fixture
def receiver(local_receivers_allowed):
    with running_receiver() as running:
        yield running


@pytest.fixture
def admin_client(staff_client):
    return staff_client("admin")


def text_of(response) -> str:
    return response.content.decode()


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def delivered(url: str, *, events=("case.submitted",), count: int = 1,
              endpoint: WebhookEndpoint | None = None) -> list[WebhookDelivery]:
    """`count` events for an endpoint at `url`, written as an action writes them."""
    endpoint = endpoint or subscribe(url, events)
    made = []
    for number in range(count):
        made += emit(events[0], {"case": {"tracking_number": f"CASE-{number}"}})
    return made


def snapshot():
    return (list(WebhookEndpoint.objects.values_list("url", "events", "secret", "is_active")),
            WebhookDelivery.objects.count(), WebhookAttempt.objects.count())


# -- who may see the pages --------------------------------------------------------------------

@pytest.fixture
def every_page():
    """Every webhook page, for an endpoint with a finished delivery."""
    endpoint = subscribe(nothing_listening(), ["case.submitted"])
    [delivery] = delivered("", endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    return [reverse("console:webhooks"), reverse("console:webhook", args=[endpoint.pk]),
            reverse("console:webhook_roll_secret", args=[endpoint.pk]),
            reverse("console:webhook_disable", args=[endpoint.pk]),
            reverse("console:webhook_enable", args=[endpoint.pk]),
            reverse("console:webhook_delivery", args=[delivery.pk]),
            reverse("console:webhook_redeliver", args=[delivery.pk])]


FORM = {"url": "https://billing.example.com/hooks", "events": ["case.decided"]}


def test_a_stranger_is_sent_to_log_in_from_every_webhook_page(client, every_page):
    before = snapshot()
    for url in every_page:
        for response in (client.get(url), client.post(url, FORM)):
            assert response.status_code == 302, url
            assert "/login" in response["Location"], url
    assert snapshot() == before


def test_a_customer_is_refused_every_webhook_page(client, every_page):
    order = vpn_order("VPN-HOOK-1", "acct-hook", "hook@example.com")
    client.force_login(customer_for(order.account))
    before = snapshot()
    for url in every_page:
        assert client.get(url).status_code == 403, url
        assert client.post(url, FORM).status_code == 403, url
    assert snapshot() == before


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_are_refused_every_webhook_page(staff_client, every_page,
                                                                 role):
    client = staff_client(role)
    before = snapshot()
    for url in every_page:
        assert client.get(url, headers=EN).status_code == 403, url
        assert client.post(url, FORM, headers=EN).status_code == 403, url
    assert snapshot() == before


def test_the_webhooks_link_is_in_the_navigation_of_admins_only(admin_client, make_staff):
    link = f'href="{reverse("console:webhooks")}"'

    assert link in text_of(admin_client.get(reverse("console:queue"), headers=EN))
    admin_client.force_login(make_staff("agent", "an-agent"))
    assert link not in text_of(admin_client.get(reverse("console:queue"), headers=EN))


def test_an_unknown_endpoint_or_delivery_is_not_found(admin_client):
    for name in ("console:webhook", "console:webhook_roll_secret", "console:webhook_disable",
                 "console:webhook_delivery", "console:webhook_redeliver"):
        assert admin_client.get(reverse(name, args=[999]), headers=EN).status_code == 404
    assert admin_client.post(reverse("console:webhook_enable", args=[999])).status_code == 404


# -- the endpoints ----------------------------------------------------------------------------

def test_the_list_says_so_when_there_are_no_endpoints(admin_client):
    response = admin_client.get(reverse("console:webhooks"), headers=EN)

    assert response.status_code == 200
    assert "No webhook endpoints yet" in text_of(response)


def test_an_admin_adds_an_endpoint_and_sees_its_secret_on_its_page(admin_client):
    # when the admin adds an endpoint for two events
    response = admin_client.post(reverse("console:webhooks"), {
        "url": " https://billing.example.com/hooks ", "description": "Billing (production)",
        "events": ["payout.failed", "case.decided"]}, headers=EN)

    # then it exists, with a fresh secret, made by them, and they land on its page
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:webhook", args=[endpoint.pk])
    assert (endpoint.url, endpoint.description, endpoint.events, endpoint.is_active) == (
        "https://billing.example.com/hooks", "Billing (production)",
        ["case.decided", "payout.failed"], True)
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.created_by == admin_client.user
    page = admin_client.get(response["Location"], headers=EN)
    assert page["Cache-Control"] == "no-store"
    assert endpoint.secret in text_of(page)
    assert "No deliveries yet" in text_of(page)
    # and the list shows it
    listed = text_of(admin_client.get(reverse("console:webhooks"), headers=EN))
    assert "https://billing.example.com/hooks" in listed and "Billing (production)" in listed


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"url": "", "events": ["case.decided"]}, "url", "This field is required."),
    ({"url": "ftp://files.example.com/in", "events": ["case.decided"]}, "url",
     "Only http:// and https:// addresses can receive webhooks."),
    ({"url": "https://exa mple.com/", "events": ["case.decided"]}, "url",
     "This is not a valid web address."),
    ({"url": "https://billing.example.com/hooks"}, "events", "This field is required."),
    ({"url": "https://billing.example.com/hooks", "events": ["case.approved"]}, "events",
     "Select a valid choice. case.approved is not one of the available choices."),
])
def test_a_bad_endpoint_is_a_form_error_and_nothing_is_added(admin_client, data, field,
                                                             message):
    response = admin_client.post(reverse("console:webhooks"), data, headers=EN)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert message.replace("'", "&#x27;") in text_of(response)
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_changes_what_an_endpoint_receives(admin_client):
    endpoint = subscribe("https://old.example.com/hooks", ["case.submitted"])

    response = admin_client.post(reverse("console:webhook", args=[endpoint.pk]), {
        "url": "https://new.example.com/hooks", "description": "moved",
        "events": ["case.refunded", "payout.succeeded"]}, headers=EN)

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description, endpoint.events) == (
        "https://new.example.com/hooks", "moved", ["case.refunded", "payout.succeeded"])
    assert flash(response) == ["The endpoint is saved."]


def test_a_bad_change_is_a_form_error_and_changes_nothing(admin_client):
    endpoint = subscribe("https://old.example.com/hooks", ["case.submitted"])
    before = snapshot()

    response = admin_client.post(reverse("console:webhook", args=[endpoint.pk]),
                                 {"url": "javascript:alert(1)", "events": []}, headers=EN)

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"url", "events"}
    assert snapshot() == before


INSIDE = ("This address points inside this network ({address} is {kind}); webhooks only go "
          "to public addresses.")


def test_registering_a_port_on_this_machine_is_a_form_error_saying_why(admin_client, settings,
                                                                       network_guard):
    # given a service on this machine, and DEBUG on (so plain http is not the reason)
    settings.DEBUG = True
    with running_receiver() as local_service:
        # when an admin registers it as a webhook endpoint
        response = admin_client.post(reverse("console:webhooks"), {
            "url": local_service.url, "events": ["case.submitted"]}, headers=EN)

        # then the page says why it is refused, and nothing is added or sent
        message = INSIDE.format(address="127.0.0.1", kind="a loopback address")
        assert response.status_code == 400
        assert response.context["form"].errors["url"] == [message]
        assert message in text_of(response)
        assert not WebhookEndpoint.objects.exists()
        assert local_service.requests == [] and network_guard.connections == []


@pytest.mark.parametrize(("url", "message"), [
    ("http://localhost:5432/", INSIDE.format(address="127.0.0.1", kind="a loopback address")),
    ("https://[::1]/hooks", INSIDE.format(address="::1", kind="a loopback address")),
    ("https://169.254.169.254/latest/meta-data/",
     INSIDE.format(address="169.254.169.254", kind="a link-local address")),
    ("https://intranet.example/hooks",
     INSIDE.format(address="10.0.0.5", kind="a private address")),
    ("https://nowhere.example/hooks",
     "The host nowhere.example cannot be found; check the address."),
    ("https://hooks:secret@billing.example.com/hooks",
     "Leave the user name and password out of the address: the signature tells your system "
     "the events come from RefundDesk."),
])
def test_an_internal_address_is_a_form_error_and_nothing_is_added(admin_client, settings,
                                                                  public_hosts, url, message):
    settings.DEBUG = True
    public_hosts.answers["intranet.example"] = ["10.0.0.5"]

    response = admin_client.post(reverse("console:webhooks"), {
        "url": url, "events": ["case.submitted"]}, headers=EN)

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [message]
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_a_form_error_outside_debug_and_the_allowed_hosts(admin_client):
    response = admin_client.post(reverse("console:webhooks"), {
        "url": "http://billing.example.com/hooks", "events": ["case.submitted"]}, headers=EN)

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        "Use an https:// address. Plain http:// is allowed only with DEBUG on or for hosts "
        "listed in WEBHOOK_ALLOWED_HOSTS."]
    assert not WebhookEndpoint.objects.exists()


def test_moving_an_endpoint_to_an_internal_address_is_refused_and_changes_nothing(
        admin_client, public_hosts):
    endpoint = subscribe("https://old.example.com/hooks", ["case.submitted"])
    public_hosts.answers["intranet.example"] = ["192.168.1.10"]
    before = snapshot()

    response = admin_client.post(reverse("console:webhook", args=[endpoint.pk]), {
        "url": "https://intranet.example/hooks", "events": ["case.submitted"]}, headers=EN)

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        INSIDE.format(address="192.168.1.10", kind="a private address")]
    assert snapshot() == before


def test_rolling_the_secret_asks_first_then_makes_a_new_one(admin_client):
    endpoint = subscribe()
    old = endpoint.secret
    url = reverse("console:webhook_roll_secret", args=[endpoint.pk])

    # when the admin opens the action, they are asked to confirm, and nothing changes yet
    confirm = admin_client.get(url, headers=EN)
    assert confirm.status_code == 200
    assert "The old secret stops working at once" in text_of(confirm)
    endpoint.refresh_from_db()
    assert endpoint.secret == old

    # when they confirm, the secret is new
    response = admin_client.post(url, headers=EN)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")


def test_disabling_asks_first_and_enabling_turns_it_back_on(admin_client):
    endpoint = subscribe()
    disable = reverse("console:webhook_disable", args=[endpoint.pk])

    assert "No new events are sent to it" in text_of(admin_client.get(disable, headers=EN))
    endpoint.refresh_from_db()
    assert endpoint.is_active

    admin_client.post(disable, headers=EN)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    page = text_of(admin_client.get(reverse("console:webhook", args=[endpoint.pk]),
                                    headers=EN))
    assert "This endpoint is disabled" in page

    admin_client.post(reverse("console:webhook_enable", args=[endpoint.pk]), headers=EN)
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_enabling_takes_a_post_only(admin_client):
    endpoint = subscribe(is_active=False)

    response = admin_client.get(reverse("console:webhook_enable", args=[endpoint.pk]))

    assert response.status_code == 405
    endpoint.refresh_from_db()
    assert not endpoint.is_active


# -- the deliveries ---------------------------------------------------------------------------

def test_the_deliveries_are_listed_newest_first_a_page_at_a_time(admin_client):
    endpoint = subscribe(nothing_listening(), ["case.submitted"])
    made = delivered("", endpoint=endpoint, count=30)
    url = reverse("console:webhook", args=[endpoint.pk])

    first = admin_client.get(url, headers=EN)
    second = admin_client.get(url + "?page=2", headers=EN)

    assert [d.pk for d in first.context["page"].object_list] == [
        d.pk for d in reversed(made)][:25]
    assert [d.pk for d in second.context["page"].object_list] == [
        d.pk for d in reversed(made)][25:]
    assert 'href="?page=2"' in text_of(first)


def test_the_deliveries_filter_by_state(admin_client):
    endpoint = subscribe(nothing_listening(), ["case.submitted"])
    pending, failed = delivered("", endpoint=endpoint, count=2)
    WebhookDelivery.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED)
    url = reverse("console:webhook", args=[endpoint.pk])

    response = admin_client.get(url + "?state=failed", headers=EN)

    assert [d.pk for d in response.context["page"].object_list] == [failed.pk]
    waiting = admin_client.get(url + "?state=pending", headers=EN)
    assert [d.pk for d in waiting.context["page"].object_list] == [pending.pk]
    succeeded = admin_client.get(url + "?state=succeeded", headers=EN)
    assert "No deliveries in this state." in text_of(succeeded)


def test_a_state_that_is_not_one_is_a_filter_error(admin_client):
    endpoint = subscribe()

    response = admin_client.get(reverse("console:webhook", args=[endpoint.pk]) + "?state=lost",
                                headers=EN)

    assert response.status_code == 400
    assert "Correct the filter above" in text_of(response)
    assert response.context["filters"].errors["state"]


def test_the_delivery_page_shows_the_payload_pretty_and_every_attempt(admin_client, receiver):
    receiver.statuses, receiver.body = [500], b"try later"
    [delivery] = delivered(receiver.url)
    attempt_delivery(delivery.pk)

    response = admin_client.get(reverse("console:webhook_delivery", args=[delivery.pk]),
                                headers=EN)

    page = text_of(response)
    assert response.status_code == 200
    pretty = json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False)
    assert response.context["payload"] == pretty
    assert delivery.event_id in page
    assert "HTTP 500" in page and "try later" in page and "automatically" in page
    # still on its schedule: no sending by hand yet
    assert reverse("console:webhook_redeliver", args=[delivery.pk]) not in page
    assert "still being tried on its schedule" in page


def test_an_admin_sends_a_failed_delivery_again_after_confirming(admin_client, receiver):
    # given a delivery given up
    [delivery] = delivered(receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    url = reverse("console:webhook_redeliver", args=[delivery.pk])
    page = text_of(admin_client.get(reverse("console:webhook_delivery", args=[delivery.pk]),
                                    headers=EN))
    assert url in page

    # when the admin opens the action, they are asked first, and nothing is sent
    assert "fresh signature" in text_of(admin_client.get(url, headers=EN))
    assert receiver.requests == []

    # when they confirm, the event is sent now and the page says how it went
    response = admin_client.post(url, headers=EN)
    assert response.status_code == 302
    assert flash(response) == ["Sent again: the endpoint answered HTTP 200."]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    attempt = delivery.attempt_log.get()
    assert (attempt.is_manual, attempt.sent_by) == (True, admin_client.user)
    shown = text_of(admin_client.get(reverse("console:webhook_delivery", args=[delivery.pk]),
                                     headers=EN))
    assert f"by hand, by {admin_client.user.get_username()}" in shown


def test_the_delivery_page_shows_why_a_delivery_was_refused(admin_client, public_hosts,
                                                           network_guard):
    # given an endpoint whose name now answers a loopback address
    [delivery] = delivered("https://rebind.example/hooks")
    public_hosts.answers["rebind.example"] = ["127.0.0.1"]

    # when the worker tries it
    attempt_delivery(delivery.pk)

    # then the delivery page shows the refusal, and nothing was sent
    page = text_of(admin_client.get(reverse("console:webhook_delivery", args=[delivery.pk]),
                                    headers=EN))
    assert "refused: 127.0.0.1 is a loopback address" in page
    assert network_guard.connections == []


def test_sending_by_hand_to_an_address_now_internal_says_it_was_not_sent(
        admin_client, public_hosts, network_guard):
    # given a delivery given up, to a name that now answers a private address
    [delivery] = delivered("https://rebind.example/hooks")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)
    public_hosts.answers["rebind.example"] = ["10.0.0.5"]

    # when an admin sends it again
    response = admin_client.post(reverse("console:webhook_redeliver", args=[delivery.pk]),
                                 headers=EN)

    # then they are told it was not sent, and why; nothing was connected to
    assert flash(response) == ["Not sent: refused: 10.0.0.5 is a private address"]
    assert network_guard.connections == []
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_a_failed_sending_by_hand_says_why(admin_client, local_receivers_allowed):
    [delivery] = delivered(nothing_listening())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)

    response = admin_client.post(reverse("console:webhook_redeliver", args=[delivery.pk]),
                                 headers=EN)

    [message] = flash(response)
    assert message.startswith("Sent again, but it failed: ConnectionError")
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_a_delivery_still_on_its_schedule_is_not_sent_by_hand(admin_client, receiver):
    [delivery] = delivered(receiver.url)
    url = reverse("console:webhook_redeliver", args=[delivery.pk])

    confirm = admin_client.get(url, headers=EN)
    assert "still being tried on its schedule" in text_of(confirm)
    response = admin_client.post(url, headers=EN)

    assert response.status_code == 302
    assert "still being tried on its schedule" in flash(response)[0]
    assert receiver.requests == []
    assert not WebhookAttempt.objects.exists()
