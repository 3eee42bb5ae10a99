"""Reading mailboxes over IMAP, against a real dovecot: unseen messages are stored, turned
into cases and flagged seen only after their row is committed; read again, or also piped,
a message opens one case."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from django.core.management import call_command
from imapclient import SEEN, IMAPClient

from refunddesk.cases.models import RefundCase
from refunddesk.intake.imap import poll, poll_all
from refunddesk.intake.mailboxes import MailboxConfigError, mailbox_from_url
from refunddesk.intake.models import InboundMail, MailState, Source
from refunddesk.intake.processing import process, process_waiting
from refunddesk.intake.storing import store
from tests.intake.conftest import corpus
from tests.intake.dovecot import is_installed, running_dovecot

pytestmark = pytest.mark.django_db

MISSING = "needs Debian's dovecot-imapd (.ci/run installs it)"
# On a developer's machine without dovecot these tests are skipped; CI must run them.
needs_dovecot = pytest.mark.skipif(not is_installed() and os.environ.get("CI") != "true",
                                   reason=MISSING)


@pytest.fixture(scope="module")
def imap_server(tmp_path_factory):
    if not is_installed():
        pytest.fail(MISSING)
    with running_dovecot(tmp_path_factory.mktemp("dovecot")) as server:
        yield server


@pytest.fixture
def mailbox(imap_server):
    """A folder of its own for each test, and a client that delivers mail to it."""
    folder = f"refunds-{uuid.uuid4().hex[:8]}"
    client = IMAPClient(imap_server.host, port=imap_server.port, ssl=False)
    client.login(imap_server.user, imap_server.password)
    client.create_folder(folder)
    yield mailbox_from_url(imap_server.url(folder)), client, folder
    client.logout()


def flags_of(client, folder):
    client.select_folder(folder, readonly=True)
    return {uid: set(data[b"FLAGS"])
            for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}


@needs_dovecot
def test_unseen_mail_is_stored_opened_as_a_case_and_then_flagged_seen(order, mailbox):
    config, client, folder = mailbox
    client.append(folder, corpus("request_format.eml"))
    client.append(folder, corpus("bounce.eml"))

    found = poll(config)

    assert (found.stored, found.known) == (2, 0)
    states = dict(InboundMail.objects.values_list("message_key", "state"))
    assert states == {"format-1@mail.example.com": MailState.OPENED_CASE,
                      "bounce-1@mx.example.com": MailState.IGNORED}
    assert InboundMail.objects.filter(source=Source.IMAP).count() == 2
    assert all(SEEN in flags for flags in flags_of(client, folder).values())
    assert poll(config).stored == 0  # nothing unseen is left


@needs_dovecot
def test_a_message_stored_before_the_worker_died_is_flagged_and_not_read_twice(order,
                                                                               mailbox):
    config, client, folder = mailbox
    client.append(folder, corpus("request_format.eml"))
    # The last worker stored and processed it, then died before flagging it seen.
    earlier, _ = store(corpus("request_format.eml"), source=Source.IMAP)
    process(earlier)

    found = poll(config)

    assert (found.stored, found.known) == (0, 1)
    assert RefundCase.objects.count() == 1
    assert all(SEEN in flags for flags in flags_of(client, folder).values())


@needs_dovecot
def test_a_message_both_piped_and_in_the_mailbox_opens_one_case(order, mailbox):
    config, client, folder = mailbox
    piped, _ = store(corpus("request_format.eml"), source=Source.PIPE)
    client.append(folder, corpus("request_format.eml"))

    poll(config)

    assert InboundMail.objects.get().pk == piped.pk
    assert RefundCase.objects.count() == 0  # the pipe's row is processed by the worker
    process_waiting()
    process_waiting()
    assert RefundCase.objects.count() == 1


@needs_dovecot
def test_a_mailbox_that_refuses_the_login_is_skipped_and_the_others_are_read(order, mailbox,
                                                                            imap_server):
    config, client, folder = mailbox
    client.append(folder, corpus("request_format.eml"))
    wrong = mailbox_from_url(imap_server.url(folder).replace("mailbox-secret", "wrong"))

    found = poll_all([wrong, config])

    assert found.stored == 1


@pytest.mark.parametrize(("url", "expected"), [
    ("imaps://refunds%40example.com:s%3Acret@imap.example.com/INBOX",
     ("imap.example.com", 993, "tls", "refunds@example.com", "s:cret", "INBOX", False)),
    ("imap+starttls://u:token-abc@mail.example.com:1143/Refunds?auth=oauth2",
     ("mail.example.com", 1143, "starttls", "u", "token-abc", "Refunds", True)),
    ("imap://u:pw-xyz@127.0.0.1", ("127.0.0.1", 143, "none", "u", "pw-xyz", "INBOX", False)),
])
def test_a_mailbox_is_configured_by_one_url(url, expected):
    found = mailbox_from_url(url)

    assert (found.host, found.port, found.security, found.user, found.secret, found.folder,
            found.oauth2) == expected
    assert found.secret not in found.name


@pytest.mark.parametrize(("url", "says"), [
    ("pop3://u:p@host/INBOX", "imaps://"),
    ("imaps://host/INBOX", "names the host, the user and the password"),
    ("imaps://u:p@host/INBOX?auth=kerberos", "auth=kerberos"),
    ("imaps://u:p@host:port/INBOX", "port"),
])
def test_a_wrong_mailbox_url_is_refused_with_what_is_wrong(url, says):
    with pytest.raises(MailboxConfigError, match=says.replace("?", r"\?")):
        mailbox_from_url(url)


def test_a_wrong_mailbox_setting_fails_the_system_check(settings):
    from refunddesk.intake.checks import mailboxes_are_readable

    settings.REFUNDDESK_IMAP_MAILBOXES = "imaps://u:p@host/INBOX pop3://u:p@host"
    [error] = mailboxes_are_readable()
    assert error.id == "intake.E001" and "imaps://" in error.msg

    settings.REFUNDDESK_IMAP_MAILBOXES = ""
    assert mailboxes_are_readable() == []


@needs_dovecot
@pytest.mark.django_db(transaction=True)  # the worker closes its database connections
def test_the_worker_reads_the_configured_mailboxes_and_the_case_gets_its_mail(order, mailbox,
                                                                            settings):
    config, client, folder = mailbox
    client.append(folder, corpus("request_format.eml"))
    settings.REFUNDDESK_IMAP_MAILBOXES = (
        f"imap://{config.user}:{config.secret}@{config.host}:{config.port}/{folder}")

    call_command("worker", batch=True, startup_delay=False, stdout=io.StringIO())

    case = RefundCase.objects.get()
    assert case.channel == "email"
    assert InboundMail.objects.get().case == case
