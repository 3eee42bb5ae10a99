"""Downloading a case's document: only its customer and staff, always as an attachment with
the stored type, never sniffed."""

import pytest
from django.urls import reverse

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from tests.portal.builders import PDF, pdf, server_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(alice, alice_order, alice_account):
    case = actions.submit(account=alice_account, order=alice_order, line_ids=["1"], actor=alice,
                          channel="portal", uploads=[pdf("收据.pdf")])
    return case.documents.get()


def url(document):
    return reverse("portal:document", args=[document.case.tracking_number, document.pk])


def body(response):
    return b"".join(response.streaming_content)


def test_the_customer_downloads_the_document_as_an_attachment(alice_client, document):
    response = alice_client.get(url(document))

    assert response.status_code == 200
    assert body(response) == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%94%B6%E6%8D%AE.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_staff_member_downloads_the_document(client, staff, document):
    client.force_login(staff)

    response = client.get(url(document))

    assert response.status_code == 200
    assert body(response) == PDF


def test_another_customer_gets_not_found(client, bob, document):
    client.force_login(bob)

    assert client.get(url(document)).status_code == 404


def test_a_stranger_is_sent_to_log_in(client, document):
    response = client.get(url(document))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))


def test_a_document_of_another_case_is_not_found_under_this_cases_number(
        alice_client, document, alice_account):
    second = server_order("TC-ALICE-2", alice_account.external_id, alice_account.email)
    other = actions.submit(account=alice_account, order=second, line_ids=["1"],
                           actor=customer_of(alice_account),
                           channel="portal", uploads=[pdf("other.pdf")])

    wrong = reverse("portal:document", args=[document.case.tracking_number,
                                             other.documents.get().pk])

    assert alice_client.get(wrong).status_code == 404


def test_the_documents_are_stored_outside_the_static_files(document, settings):
    path = document.file.path

    assert path.startswith(str(settings.MEDIA_ROOT))
    assert not path.startswith(str(settings.STATIC_ROOT))
