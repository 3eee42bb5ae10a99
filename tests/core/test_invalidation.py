"""Process caches forgotten in every process when their table changes (core/invalidation.py).

The changes come from another database connection that commits, as another web process's
would; PostgreSQL's notice reaches this process's listener a moment later, so the tests
wait for it (up to NOTICE_WAIT seconds) instead of assuming a time."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from refunddesk.api.keys import make_key
from refunddesk.api.models import ApiKey
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.core import invalidation

NOTICE_WAIT = 20.0


@pytest.fixture
def cache_on(settings):
    settings.REFUNDDESK_PROCESS_CACHE = True
    invalidation.forget()
    yield
    # The listening connection must be gone before the test database is dropped.
    invalidation.stop_listening()
    invalidation.forget()


def listening() -> None:
    invalidation.kept(invalidation.API_KEYS, "warm", lambda: None)  # starts the listener
    eventually(invalidation.is_listening)


def eventually(condition) -> None:
    deadline = time.monotonic() + NOTICE_WAIT
    while not condition():
        assert time.monotonic() < deadline, "the change was never heard of"
        time.sleep(0.05)


def in_another_connection(change) -> None:
    """`change` run and committed on a connection of its own, as by another process."""
    failures = []

    def run():
        try:
            change()
        except Exception as error:  # pragma: no cover - shown by the assertion below
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failures, failures


class Reads:
    """A read that counts how often the database was asked."""

    def __init__(self, value):
        self.value, self.count = value, 0

    def __call__(self):
        self.count += 1
        return self.value


def on_postgres(test):
    """A test of the notices: PostgreSQL, with committed transactions."""
    for mark in (pytest.mark.django_db(transaction=True),
                 pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="needs PostgreSQL (its notices between processes)"),
                 pytest.mark.postgres_only):
        test = mark(test)
    return test


@on_postgres
def test_a_value_is_read_once_until_another_process_changes_its_table(cache_on):
    # Given a listening process that has read a value once
    listening()
    reads = Reads("first")
    assert invalidation.kept(invalidation.API_KEYS, "k", reads) == "first"

    # When it is asked again, the database is not read again
    assert invalidation.kept(invalidation.API_KEYS, "k", reads) == "first"
    assert reads.count == 1

    # When another process changes the table and commits
    in_another_connection(lambda: make_key(name="other", scopes=["cases:read"],
                                           actor=COMMAND_LINE))

    # Then the value is read afresh
    reads.value = "second"
    eventually(lambda: invalidation.kept(invalidation.API_KEYS, "k", reads) == "second")
    assert reads.count == 2


@on_postgres
def test_a_change_of_another_table_leaves_the_value_kept(cache_on):
    listening()
    reads = Reads("kept")
    invalidation.kept(invalidation.POLICY_VERSIONS, "tencent-cloud", reads)

    in_another_connection(lambda: make_key(name="other", scopes=["cases:read"],
                                           actor=COMMAND_LINE))
    # The API key table's notice arrives (its own cache forgets) …
    api_reads = Reads(None)
    invalidation.kept(invalidation.API_KEYS, "x", api_reads)
    eventually(lambda: invalidation.kept(invalidation.API_KEYS, "x", api_reads) is None
               and api_reads.count >= 1)

    # … and the policy's value was not read again
    invalidation.kept(invalidation.POLICY_VERSIONS, "tencent-cloud", reads)
    assert reads.count == 1


@on_postgres
def test_a_key_revoked_by_another_process_stops_working_at_once(cache_on, client):
    # Given a key this process has checked and keeps
    key, secret = make_key(name="integration", scopes=["cases:read"], actor=COMMAND_LINE)
    listening()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/v1/cases", **headers).status_code == 200

    # When another web process revokes it
    in_another_connection(lambda: ApiKey.objects.filter(pk=key.pk).update(
        revoked_at="2026-12-06T00:00:00Z"))

    # Then this process refuses it as soon as the notice arrives: no grace period
    eventually(lambda: client.get("/api/v1/cases", **headers).status_code == 401)


@on_postgres
def test_a_transaction_that_wrote_the_table_reads_its_own_change_and_a_rollback_leaves_nothing(
        cache_on):
    listening()
    reads = Reads("before")
    invalidation.kept(invalidation.WEBHOOK_ENDPOINTS, "active", reads)

    with pytest.raises(RuntimeError), transaction.atomic():
        invalidation.written(invalidation.WEBHOOK_ENDPOINTS)
        reads.value = "uncommitted"
        assert invalidation.kept(invalidation.WEBHOOK_ENDPOINTS, "active", reads) \
            == "uncommitted"
        raise RuntimeError("rolled back")

    # The rolled-back value was never kept: the kept one is still the committed one
    reads.value = "before"
    assert invalidation.kept(invalidation.WEBHOOK_ENDPOINTS, "active", reads) == "before"


@on_postgres
def test_a_committed_change_in_this_process_is_forgotten_at_commit_without_waiting(cache_on):
    listening()
    reads = Reads("old")
    invalidation.kept(invalidation.CALENDAR_CHANGES, "latest", reads)

    with transaction.atomic():
        invalidation.written(invalidation.CALENDAR_CHANGES)
    reads.value = "new"

    assert invalidation.kept(invalidation.CALENDAR_CHANGES, "latest", reads) == "new"


@on_postgres
def test_nothing_is_kept_until_the_listener_listens(cache_on, monkeypatch):
    invalidation.stop_listening()
    monkeypatch.setattr(invalidation._Listener, "start", lambda self: None)
    reads = Reads("value")

    invalidation.kept(invalidation.API_KEYS, "k", reads)
    invalidation.kept(invalidation.API_KEYS, "k", reads)

    assert reads.count == 2


@pytest.mark.django_db
def test_on_sqlite_nothing_is_kept(settings):
    if connection.vendor != "sqlite":
        pytest.skip("about SQLite")
    settings.REFUNDDESK_PROCESS_CACHE = True
    reads = Reads("value")

    invalidation.kept(invalidation.API_KEYS, "k", reads)
    invalidation.kept(invalidation.API_KEYS, "k", reads)

    assert reads.count == 2 and not invalidation.is_on()


@on_postgres
def test_made_up_keys_do_not_grow_the_memory_without_bound(cache_on, monkeypatch):
    listening()
    monkeypatch.setattr(invalidation, "MAX_VALUES", 3)

    for n in range(10):
        invalidation.kept(invalidation.API_KEYS, f"made-up-{n}", lambda: None)

    assert len(invalidation._values) <= 3
