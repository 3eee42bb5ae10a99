"""Webhooks go to public addresses only (the finding "Webhooks reach internal addresses"):
refused when an endpoint is saved and again before every attempt, with the connection
made to exactly the address that was checked.

Names resolve through a stub resolver and the network guard refuses any connection off
this machine (tests/notifications/network_guard.py): nothing here sends to a private,
link-local or public address, not even to show it is refused."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from refunddesk.notifications import webhook_addresses
from refunddesk.notifications.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from refunddesk.notifications.webhook_addresses import Destination, Refused, check
from refunddesk.notifications.webhook_endpoints import WebhookError, add_endpoint
from refunddesk.notifications.webhook_events import emit
from refunddesk.notifications.webhook_pinning import pin, webhook_session
from refunddesk.notifications.webhook_sending import attempt_delivery
from tests.cases.conftest import in_english  # noqa: F401 (the messages matched are English)
from tests.notifications.network_guard import PUBLIC
from tests.notifications.tls_certificates import certificates_for
from tests.notifications.webhook_receiver import running_receiver, subscribe
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-04T12:00:00+08:00")
MADE_UP = "hooks.refunddesk.test"  # a name only the stub resolver knows


@pytest.fixture
def admin(db):
    return staff_member("admin-1", "admin")


def an_event_for(url: str) -> WebhookDelivery:
    subscribe(url, ["case.submitted"])
    [delivery] = emit("case.submitted", {"case": {"tracking_number": "ABCD-EFGH-JKL"}}, now=T0)
    return delivery


def port_of(url: str) -> int:
    return urlsplit(url).port or 0


def refusal(url: str) -> Refused:
    with pytest.raises(Refused) as refused:
        check(url)
    return refused.value


# -- the finding ------------------------------------------------------------------------------

def test_registering_a_local_port_as_a_webhook_is_refused_even_with_debug_on(
        settings, admin, network_guard):
    # given a service listening on this machine, and DEBUG on (plain http allowed)
    settings.DEBUG = True
    with running_receiver() as local_service:
        # when an admin registers it as a webhook endpoint
        with pytest.raises(WebhookError) as refused:
            add_endpoint(url=local_service.url, events=["case.submitted"], actor=admin)

        # then it is refused, saying why, and nothing is saved or sent
        assert refused.value.field == "url"
        assert str(refused.value.message) == (
            "This address points inside this network (127.0.0.1 is a loopback address); "
            "webhooks only go to public addresses.")
        assert not WebhookEndpoint.objects.exists()
        assert local_service.requests == [] and network_guard.connections == []


def test_an_internal_endpoint_saved_before_the_fix_is_not_sent_to(settings, network_guard):
    # given an endpoint on this machine, stored before addresses were checked
    settings.DEBUG = True
    with running_receiver() as local_service:
        delivery = an_event_for(local_service.url)

        # when the worker tries it
        attempt_delivery(delivery.pk, now=T0)

        # then it is refused: logged as a failed attempt, nothing sent, no answer shown
        [attempt] = WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all()
        assert attempt.error == "refused: 127.0.0.1 is a loopback address"
        assert (attempt.status_code, attempt.response_body) == (None, "")
        assert local_service.requests == [] and network_guard.connections == []


# -- what is refused --------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "reason"), [
    ("https://127.0.0.1/hooks", "127.0.0.1 is a loopback address"),
    ("https://127.8.9.10/hooks", "127.8.9.10 is a loopback address"),
    ("https://10.0.0.5/hooks", "10.0.0.5 is a private address"),
    ("https://172.16.0.1/hooks", "172.16.0.1 is a private address"),
    ("https://172.31.255.254/hooks", "172.31.255.254 is a private address"),
    ("https://192.168.1.10/hooks", "192.168.1.10 is a private address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("https://0.0.0.0/hooks", "0.0.0.0 is an unspecified address"),
    ("https://224.0.0.1/hooks", "224.0.0.1 is a multicast address"),
    ("https://240.0.0.1/hooks", "240.0.0.1 is a reserved address"),
    ("https://255.255.255.255/hooks", "255.255.255.255 is a reserved address"),
    ("https://100.64.0.1/hooks", "100.64.0.1 is a carrier-grade NAT address"),
    ("https://192.0.2.1/hooks", "192.0.2.1 is not a public address"),
    ("https://[::1]/hooks", "::1 is a loopback address"),
    ("https://[::]/hooks", ":: is an unspecified address"),
    ("https://[fe80::1]/hooks", "fe80::1 is a link-local address"),
    ("https://[fc00::1]/hooks", "fc00::1 is a private address"),
    ("https://[fd12:3456::1]/hooks", "fd12:3456::1 is a private address"),
    ("https://[ff02::1]/hooks", "ff02::1 is a multicast address"),
    ("https://[::ffff:127.0.0.1]/hooks", "127.0.0.1 is a loopback address"),
    ("https://[::ffff:10.0.0.5]/hooks", "10.0.0.5 is a private address"),
    ("https://[64:ff9b::a9fe:a9fe]/hooks", "64:ff9b::a9fe:a9fe is a link-local address"),
    ("https://[2002:7f00:1::1]/hooks", "2002:7f00:1::1 is a loopback address"),
    ("http://2130706433/hooks", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/hooks", "127.0.0.1 is a loopback address"),
    ("http://0x7f.1/hooks", "127.0.0.1 is a loopback address"),
    ("http://127.1/hooks", "127.0.0.1 is a loopback address"),
    ("http://localhost/hooks", "127.0.0.1 is a loopback address"),
    ("http://localhost:5432/", "127.0.0.1 is a loopback address"),
    ("http://LOCALHOST./hooks", "127.0.0.1 is a loopback address"),
])
def test_an_address_inside_the_network_is_refused_whatever_its_form(settings, network_guard,
                                                                    url, reason):
    # given DEBUG on, so that plain http is not what refuses it
    settings.DEBUG = True

    # then the address is refused for what it is, and nothing was connected to
    assert refusal(url).reason == reason
    assert network_guard.connections == []


@pytest.mark.parametrize("url", ["https://2130706433/", "https://0177.0.0.1/",
                                 "https://0x7f.1/", "https://localhost/"])
def test_the_system_resolver_reads_the_unusual_forms_of_127_0_0_1_as_127_0_0_1(url):
    # when the address is checked with the operating system's resolver (these forms need
    # no lookup: getaddrinfo reads them as inet_aton does; localhost is in /etc/hosts)
    with pytest.raises(Refused) as refused:
        check(url, resolver=webhook_addresses.system_resolver)

    # then what it reaches is what is judged, not how it is written
    assert refused.value.reason in ("127.0.0.1 is a loopback address",
                                    "::1 is a loopback address")


def test_a_host_name_resolving_to_127_0_0_1_is_refused(stub_dns):
    stub_dns.answers["intranet.example"] = ["127.0.0.1"]

    assert refusal("https://intranet.example/hooks").reason == (
        "127.0.0.1 is a loopback address")


def test_a_host_name_with_one_internal_address_among_public_ones_is_refused(stub_dns):
    stub_dns.answers["mixed.example"] = [PUBLIC, "10.0.0.5"]

    assert refusal("https://mixed.example/hooks").reason == "10.0.0.5 is a private address"


def test_a_host_that_cannot_be_resolved_is_refused_with_its_name(admin):
    with pytest.raises(WebhookError) as refused:
        add_endpoint(url="https://nowhere.example/hooks", events=["case.submitted"],
                     actor=admin)

    assert str(refused.value.message) == (
        "The host nowhere.example cannot be found; check the address.")


def test_plain_http_is_refused_unless_debug_is_on_or_the_host_is_allowed(settings, stub_dns):
    # given a public host over plain http
    stub_dns.answers["billing.example.com"] = [PUBLIC]
    url = "http://billing.example.com/hooks"
    settings.DEBUG, settings.WEBHOOK_ALLOWED_HOSTS = False, []

    # then it is refused without DEBUG, and allowed with DEBUG or with the host allowed
    assert refusal(url).reason == (
        "plain http is used only with DEBUG on or for hosts in WEBHOOK_ALLOWED_HOSTS")
    settings.DEBUG = True
    assert check(url).address == PUBLIC
    settings.DEBUG, settings.WEBHOOK_ALLOWED_HOSTS = False, ["Billing.Example.COM"]
    assert check(url).address == PUBLIC


def test_an_allowed_host_skips_the_address_check(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["[::1]"]

    assert check("http://[::1]:8080/hooks") == Destination("http", "::1", 8080, "::1")
    assert refusal("http://127.0.0.1:8080/hooks").reason == (
        "plain http is used only with DEBUG on or for hosts in WEBHOOK_ALLOWED_HOSTS")


def test_a_user_name_and_password_in_the_address_are_refused(admin, stub_dns):
    stub_dns.answers["billing.example.com"] = [PUBLIC]

    with pytest.raises(WebhookError, match="Leave the user name and password out"):
        add_endpoint(url="https://hooks:secret@billing.example.com/in",
                     events=["case.submitted"], actor=admin)


# -- what is accepted -------------------------------------------------------------------------

def test_an_https_address_resolving_to_a_public_address_is_saved_without_connecting(
        admin, stub_dns, network_guard):
    # given a name the resolver answers with a public address
    stub_dns.answers["billing.example.com"] = [PUBLIC]

    # when an admin registers it
    endpoint = add_endpoint(url="https://billing.example.com/hooks",
                            events=["case.submitted"], actor=admin)

    # then it is saved; checking it resolved the name and connected to nothing
    assert endpoint.url == "https://billing.example.com/hooks"
    assert "billing.example.com" in stub_dns.asked
    assert network_guard.connections == []


# -- at every delivery ------------------------------------------------------------------------

def test_a_dns_answer_changed_to_127_0_0_1_after_saving_is_refused_at_delivery(
        admin, stub_dns, network_guard, caplog):
    # given an endpoint saved while its name pointed to a public address
    stub_dns.answers["rebind.example"] = [PUBLIC]
    add_endpoint(url="https://rebind.example/hooks", events=["case.submitted"], actor=admin)
    [delivery] = emit("case.submitted", {"case": {"tracking_number": "ABCD-EFGH-JKL"}}, now=T0)

    # when the name now answers 127.0.0.1 and the worker tries the delivery
    stub_dns.answers["rebind.example"] = ["127.0.0.1"]
    with caplog.at_level(logging.WARNING, logger="refunddesk.notifications.webhook_sending"):
        attempt_delivery(delivery.pk, now=T0)

    # then nothing is sent: the attempt is logged as refused and the worker's log says so
    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    assert delivery.last_error == "refused: 127.0.0.1 is a loopback address"
    assert delivery.attempt_log.get().status_code is None
    assert network_guard.connections == []
    assert "refused, not sent: 127.0.0.1 is a loopback address" in caplog.text
    # and it stays on the retry schedule, in case the name is put right
    assert delivery.state == DeliveryState.PENDING
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)


def test_a_name_resolving_to_10_0_0_5_is_refused_without_any_connection_attempt(
        stub_dns, network_guard):
    stub_dns.answers["evil.example"] = ["10.0.0.5"]
    delivery = an_event_for("https://evil.example/hooks")

    attempt_delivery(delivery.pk, now=T0)

    assert (WebhookDelivery.objects.get(pk=delivery.pk).last_error
            == "refused: 10.0.0.5 is a private address")
    assert network_guard.connections == [] and network_guard.lookups == []


# -- the connection goes to the address checked -----------------------------------------------

def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(
        settings, monkeypatch, network_guard):
    # given a receiver on 127.0.0.1 under a made-up name, allowed as an internal receiver,
    # whose name answers 127.0.0.1 first and another address to any later lookup
    settings.WEBHOOK_ALLOWED_HOSTS = [MADE_UP]
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.0.0.5"]

    monkeypatch.setattr(webhook_addresses, "default_resolver", rebinding)
    with running_receiver() as receiver:
        port = port_of(receiver.url)
        delivery = an_event_for(f"http://{MADE_UP}:{port}/hooks")

        # when the worker delivers it
        assert attempt_delivery(delivery.pk) == DeliveryState.SUCCEEDED

        # then the receiver got it under the made-up name, over a connection to the
        # address checked; the name was looked up once, by the check, and never again
        [received] = receiver.requests
        assert received.headers["Host"] == f"{MADE_UP}:{port}"
        assert network_guard.connections == [("127.0.0.1", port)]
        assert asked == [MADE_UP] and network_guard.lookups == []


def test_https_is_verified_against_the_host_name_while_connecting_to_the_pinned_address(
        tmp_path, network_guard):
    # given an https receiver on 127.0.0.1 with a certificate for the made-up name
    certificates = certificates_for(MADE_UP, tmp_path)
    with running_receiver(tls=certificates.server) as receiver:
        port = port_of(receiver.url)
        destination = Destination("https", MADE_UP, port, "127.0.0.1")

        # when a pinned session posts to the made-up name, trusting the test CA
        with webhook_session() as session:
            pin(session, destination)
            response = session.post(f"https://{MADE_UP}:{port}/hooks", data=b"{}",
                                    verify=str(certificates.ca_file), timeout=5)

        # then TLS asked for the name and verified the certificate against it
        assert response.status_code == 200
        assert certificates.names_asked == [MADE_UP]
        assert receiver.requests[0].headers["Host"] == f"{MADE_UP}:{port}"
        assert network_guard.connections == [("127.0.0.1", port)]


def test_a_certificate_for_another_name_fails_even_at_the_pinned_address(tmp_path):
    certificates = certificates_for("elsewhere.test", tmp_path)
    with running_receiver(tls=certificates.server) as receiver:
        port = port_of(receiver.url)
        with webhook_session() as session:
            pin(session, Destination("https", MADE_UP, port, "127.0.0.1"))

            with pytest.raises(requests.exceptions.SSLError, match=r"match|mismatch"):
                session.post(f"https://{MADE_UP}:{port}/hooks", data=b"{}",
                             verify=str(certificates.ca_file), timeout=5)

        assert receiver.requests == []


def test_a_pinned_session_sends_nothing_to_another_host(network_guard):
    with webhook_session() as session:
        pin(session, Destination("https", MADE_UP, 443, "127.0.0.1"))

        with pytest.raises(requests.exceptions.InvalidURL):
            session.post("https://other.example/hooks", data=b"{}", timeout=5)

    assert network_guard.connections == []
