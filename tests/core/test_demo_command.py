"""`refunddesk demo` (what `make run` runs) serves the site with demo data and staff logins."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from refunddesk.core import totp
from refunddesk.policy.business_days import business_calendar

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="the demo runs on its own SQLite file; once per suite is enough"),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(process, pattern, timeout):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"never printed {pattern!r}; output was:\n{''.join(seen)}")


def test_the_demo_serves_the_home_page_with_demo_data_and_prints_the_logins(tmp_path):
    port = free_port()
    env = dict(os.environ, REFUNDDESK_VAR_DIR=str(tmp_path / "var"), DATABASE_URL="",
               PYTHONUNBUFFERED="1")
    demo = subprocess.Popen(
        [sys.executable, "-m", "refunddesk.cli", "demo", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        output = wait_for_line(demo, r"Press Ctrl-C to stop", timeout=120)
        # The server and the worker go on writing (the worker logs each e-mail of the demo's
        # history it sends): read on, or they block on a full pipe and cannot stop.
        threading.Thread(target=demo.stdout.read, daemon=True).start()

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "RefundDesk" in response.read().decode()
        css = f"http://127.0.0.1:{port}/static/refunddesk/site.css"
        with urllib.request.urlopen(css, timeout=10) as response:
            assert response.status == 200
        assert re.search(r"Loaded demo data in .*: \d+ accounts, \d+ orders", output)
        assert re.search(r"Opened \d+ demo refund cases, \d+ of them waiting", output)
        assert re.search(r"Wrote the demo's last two months in .*: \d+ refund cases", output)
        for role in ("agent", "reviewer", "finance", "admin"):
            assert f"demo-{role}" in output
        assert f"http://127.0.0.1:{port}/" in output
        # The system checks ran on the loaded data: the business calendar's warning shows
        # when mainland China's packaged calendar ends within the deadlines' 90 days (the
        # demo keeps example days only and enters no year).
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        known = business_calendar("CN").covered_through(today)
        runs_out = known is None or known < today + timedelta(days=90)
        assert ("calendars.W00" in output) == runs_out, output

        # Each staff login with the secret of its authenticator, and the command that
        # prints the current code instead.
        secret = re.search(r"demo-agent\s+agent-demo-2026\s+([A-Z2-7]{32})\b", output)
        assert secret, output
        assert "refunddesk totp-code USERNAME" in output
        code = subprocess.run(
            [sys.executable, "-m", "refunddesk.cli", "totp-code", "demo-agent"],
            capture_output=True, text=True, env=env, timeout=60, check=True).stdout.strip()
        counter = int(time.time()) // 30
        assert code in {totp.code_of_step(secret.group(1), counter + step)
                        for step in (-1, 0, 1)}

        # The e-mail channel, tried as the demo says: the example request piped in opens
        # a case for the demo customer.
        example = re.search(r"refunddesk receive-mail < (\S+refund-request\.eml)", output)
        assert example, output
        with open(example.group(1), "rb") as raw:
            piped = subprocess.run([sys.executable, "-m", "refunddesk.cli", "receive-mail"],
                                   stdin=raw, capture_output=True, text=True, env=env,
                                   timeout=60)
        assert piped.returncode == 0, piped.stderr
        assert re.search(r": opened_case [2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{3}$",
                         piped.stdout.strip()), piped.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
    assert demo.returncode == 0
