"""How the settings read DATABASE_URL and the database options beside it."""

import runpy

import pytest

from refunddesk import settings as settings_module

POSTGRES = "postgres://refunddesk:secret@db.example.com:5432/refunddesk"


def settings_with(monkeypatch, **environment):
    monkeypatch.setenv("SECRET_KEY", "settings-test")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # The settings file run again, as a new process would run it.
    return runpy.run_path(settings_module.__file__)["DATABASES"]["default"]


def test_postgresql_prepares_the_queries_a_connection_runs_often(monkeypatch):
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES)

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["OPTIONS"]["server_side_binding"] is True


@pytest.mark.parametrize("value", ["false", "False", "FALSE"])
def test_server_side_binding_can_be_turned_off_for_pgbouncer_in_transaction_mode(
        monkeypatch, value):
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES,
                             DATABASE_SERVER_SIDE_BINDING=value)

    assert database["OPTIONS"]["server_side_binding"] is False


def test_sqlite_has_no_server_side_binding(monkeypatch, tmp_path):
    database = settings_with(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert "server_side_binding" not in database["OPTIONS"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
