"""`refunddesk serve`: the production server (granian) with RefundDesk's application."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from refunddesk.core.management.commands import serve
from refunddesk.core.management.commands.serve import server_command


def option(command, name):
    return command[command.index(name) + 1]


def test_the_server_is_granian_serving_the_wsgi_application_with_an_access_log():
    command = server_command("127.0.0.1", 8123, workers=3)

    assert command[:3] == [sys.executable, "-m", "granian"]
    assert command[-1] == "refunddesk.wsgi:application"
    assert option(command, "--interface") == "wsgi"
    assert (option(command, "--host"), option(command, "--port")) == ("127.0.0.1", "8123")
    assert option(command, "--workers") == "3"
    assert option(command, "--blocking-threads") == str(serve.DEFAULT_THREADS)
    assert "--access-log" in command and "--respawn-failed-workers" in command


def test_threads_and_the_access_log_are_the_callers_choice():
    command = server_command("0.0.0.0", 8000, workers=2, threads=4, access_log=False)

    assert option(command, "--blocking-threads") == "4"
    assert "--no-access-log" in command and "--access-log" not in command


class Exec(Exception):
    pass


@pytest.fixture
def exec_calls(monkeypatch):
    """os.execv replaced: the command line the command would run instead of itself."""
    calls = []

    def execv(path, arguments):
        calls.append(arguments)
        raise Exec

    monkeypatch.setattr(serve.os, "execv", execv)
    return calls


def test_the_command_passes_its_options_to_the_server(exec_calls):
    with pytest.raises(Exec):
        call_command("serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "5",
                     "--threads", "3", "--no-access-log")

    [command] = exec_calls
    assert (option(command, "--host"), option(command, "--port")) == ("0.0.0.0", "9000")
    assert option(command, "--workers") == "5"
    assert option(command, "--blocking-threads") == "3"
    assert "--no-access-log" in command


def test_by_default_the_command_runs_a_process_per_core(exec_calls, monkeypatch):
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 3)
    with pytest.raises(Exec):
        call_command("serve")

    [command] = exec_calls
    assert (option(command, "--host"), option(command, "--port")) == ("127.0.0.1", "8000")
    assert option(command, "--workers") == str(3 * serve.WORKERS_PER_CORE)


@pytest.mark.parametrize("arguments", [["--workers", "0"], ["--threads", "-1"],
                                       ["--port", "70000"]])
def test_a_nonsense_number_is_refused_before_anything_starts(exec_calls, arguments):
    with pytest.raises(CommandError):
        call_command("serve", *arguments)

    assert exec_calls == []


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="the server runs on a SQLite file of its own; once is enough")
def test_the_server_answers_the_health_check_and_serves_static_files_then_stops(tmp_path):
    port = free_port()
    env = dict(os.environ, REFUNDDESK_VAR_DIR=str(tmp_path / "var"), DATABASE_URL="",
               DEBUG="false")
    server = subprocess.Popen(
        [sys.executable, "-m", "refunddesk.cli", "serve", "--port", str(port),
         "--workers", "1", "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                            timeout=5) as response:
                    health = response.status, json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        css = f"http://127.0.0.1:{port}/static/refunddesk/site.css"
        with urllib.request.urlopen(css, timeout=10) as response:
            css_status = response.status

        assert health == (200, {"status": "ok"})
        assert css_status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0
