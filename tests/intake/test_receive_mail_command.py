"""`refunddesk receive-mail`, the interface mail servers pipe to: exit 0 once stored, 75
(EX_TEMPFAIL) when the database is unreachable so the server retries, 65 for no message."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from refunddesk.cases.models import RefundCase
from refunddesk.intake.models import InboundMail, MailState
from tests.intake.conftest import MAIL, corpus

pytestmark = pytest.mark.django_db


def pipe(monkeypatch, raw):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive-mail", stdout=out)
    return out.getvalue()


def test_a_piped_request_is_stored_and_opens_a_case(monkeypatch, order):
    said = pipe(monkeypatch, corpus("request_format.eml"))

    case = RefundCase.objects.get()
    assert said.strip() == f"format-1@mail.example.com: opened_case {case.tracking_number}"
    assert InboundMail.objects.get().state == MailState.OPENED_CASE


def test_the_same_message_piped_again_is_known_and_changes_nothing(monkeypatch, order):
    pipe(monkeypatch, corpus("request_format.eml"))
    said = pipe(monkeypatch, corpus("request_format.eml"))

    assert said.strip().endswith("(received before)")
    assert RefundCase.objects.count() == 1


def test_an_empty_input_is_refused_with_ex_dataerr(monkeypatch):
    with pytest.raises(SystemExit) as exited:
        pipe(monkeypatch, b"  \r\n")
    assert exited.value.code == 65


def test_an_unreachable_database_answers_ex_tempfail_so_the_mail_server_retries():
    # Nothing listens on port 1 of the loopback address: the connection is refused at once.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/none",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "refunddesk.cli", "receive-mail"],
                          input=(MAIL / "request_format.eml").read_bytes(),
                          capture_output=True, env=env, timeout=120)

    assert done.returncode == 75, done.stderr.decode()
    assert b"database is unreachable" in done.stderr
