"""Intake tests: the corpus of messages written for this project (tests/intake/mail/), the
DESIGN example order of li.lei@example.com in the billing mirror, uploads in a temporary
folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.cases.conftest import import_order
from tests.conftest import EXAMPLE_ORDER
from tests.notifications.conftest import mailbox  # noqa: F401  (the SMTP server)

MAIL = Path(__file__).parent / "mail"


def corpus(name: str, **values: str) -> bytes:
    """A message of the corpus, with {placeholders} (a case's tracking number) filled."""
    raw = (MAIL / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(b"{" + key.encode() + b"}", value.encode())
    return raw


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def order(db):
    """Li Lei's server (TC-20260301-0001, Tencent Cloud's policy)."""
    return import_order(copy.deepcopy(EXAMPLE_ORDER))


@pytest.fixture(autouse=True)
def in_english():
    from django.utils import translation

    with translation.override("en"):
        yield
