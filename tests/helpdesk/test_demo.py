"""The one command: ``python -m examples.helpdesk`` starts pusherd and the helpdesk with demo
data, and a browser's first requests all succeed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from examples.helpdesk.seed import DEMO_PASSWORD, DEMO_USERS, HISTORY
from tests.helpdesk.conftest import free_port
from tests.services import ROOT, require_node

pytestmark = pytest.mark.node


def wait_until_up(process: subprocess.Popen[str], url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the helpdesk exited early"
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_one_command_starts_everything_with_demo_data(database_url: str) -> None:
    """On SQLite and on PostgreSQL (``HELPDESK_DATABASE_URL``)."""
    require_node()
    port, pusher_port = free_port(), free_port()
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_PUSHER_PORT": str(pusher_port),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.helpdesk", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base + "/")
        with httpx.Client(base_url=base, timeout=30) as http:
            for asset in (
                "/vendor/pusher.min.js",
                "/vendor/echo.iife.js",
                "/vendor/chart.umd.min.js",
            ):
                assert http.get(asset).status_code == 200, asset
            # pusherd answers on its own port.
            assert (
                httpx.get(f"http://127.0.0.1:{pusher_port}/health", timeout=10).status_code == 200
            )
            tokens = {}
            # The first of each role: Ana Buyer, Sam Seller, Alex Agent.
            for email, _name, role in DEMO_USERS:
                answer = http.post("/api/login", json={"email": email, "password": DEMO_PASSWORD})
                assert answer.status_code == 200, email
                tokens.setdefault(role, answer.json()["token"])
            mine = http.get(
                "/api/conversations", headers={"Authorization": f"Bearer {tokens['buyer']}"}
            )
            assert mine.status_code == 200 and mine.json()
            report = http.get(
                "/api/reports", headers={"Authorization": f"Bearer {tokens['agent']}"}
            )
            assert report.status_code == 200
            figures = report.json()["tickets"]
            assert figures["resolution"]["count"] == len(HISTORY)
            assert figures["rated"] == len(HISTORY)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output
    for email, _name, _role in DEMO_USERS:
        assert email in output
