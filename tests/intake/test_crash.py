"""Exactly once when it matters: `refunddesk receive-mail` killed with SIGKILL in the middle
of opening the case (after the case is written, before it commits) leaves the message
stored and no case; the mail server pipes it again and it opens exactly one case.

The processes share a SQLite file of their own (they cannot reach pytest's in-memory
database), checked with plain sqlite3 afterwards: what is checked is what is on disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.intake.conftest import MAIL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="runs on its own SQLite file, in the SQLite run"),
]

REFUNDDESK = [sys.executable, "-m", "refunddesk.cli"]
MESSAGE = (MAIL / "request_format.eml").read_bytes()

SETUP = """
import copy, django
django.setup()
from tests.cases.conftest import import_order
from tests.conftest import EXAMPLE_ORDER
import_order(copy.deepcopy(EXAMPLE_ORDER))
"""

# receive-mail, stopped for good right after the case is written inside its transaction.
STOPPED_MID_WAY = """
import io, sys, time, django
django.setup()
from django.core.management import call_command
from refunddesk.cases import actions

opening = actions.open_cases

def open_then_hang(**kwargs):
    cases = opening(**kwargs)
    print("case written, not committed", flush=True)
    time.sleep(600)
    return cases

actions.open_cases = open_then_hang
call_command("receive-mail")
"""


def environment(directory: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'refunddesk.sqlite3'}",
            "MEDIA_ROOT": str(directory / "media"), "DJANGO_SETTINGS_MODULE":
            "refunddesk.settings", "PYTHONPATH": os.pathsep.join(sys.path),
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}


def pipe(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*REFUNDDESK, "receive-mail"], input=MESSAGE.decode(),
                          capture_output=True, text=True, env=environment(directory),
                          timeout=120)


def rows(directory: Path, query: str) -> list[tuple]:
    with sqlite3.connect(directory / "refunddesk.sqlite3") as database:
        return database.execute(query).fetchall()


def test_a_pipe_killed_while_opening_the_case_loses_nothing_and_opens_one_case(tmp_path):
    env = environment(tmp_path)
    subprocess.run([*REFUNDDESK, "migrate", "--verbosity", "0"], env=env, check=True,
                   timeout=300)
    subprocess.run([sys.executable, "-c", SETUP], env=env, check=True, timeout=120)

    stopped = subprocess.Popen([sys.executable, "-c", STOPPED_MID_WAY], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    stopped.stdin.write(MESSAGE.decode())
    stopped.stdin.close()
    assert stopped.stdout.readline().strip() == "case written, not committed"
    stopped.send_signal(signal.SIGKILL)
    stopped.wait(timeout=30)

    # Killed: the message is stored, not processed, and the half-opened case is gone.
    assert rows(tmp_path, "select state from intake_inboundmail") == [("received",)]
    assert rows(tmp_path, "select count(*) from cases_refundcase") == [(0,)]

    # The mail server got no exit 0, so it pipes the message again: one case.
    again = pipe(tmp_path)
    assert again.returncode == 0, again.stderr
    assert "opened_case" in again.stdout and "(received before)" in again.stdout
    once_more = pipe(tmp_path)
    assert once_more.returncode == 0 and "(received before)" in once_more.stdout

    assert rows(tmp_path, "select count(*) from cases_refundcase") == [(1,)]
    assert rows(tmp_path, "select state from intake_inboundmail") == [("opened_case",)]
