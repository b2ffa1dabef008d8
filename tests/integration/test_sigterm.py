"""SIGTERM on a real ``pusherd`` process with pusher-js clients connected."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time

import pytest

from tests.integration.js import JsClients
from tests.services import ROOT

pytestmark = pytest.mark.anyio

ENV = {
    "PUSHERD_APP_ID": "7",
    "PUSHERD_APP_KEY": "sigterm-key",
    "PUSHERD_APP_SECRET": "sigterm-secret",
    "PUSHERD_TIMEOUT_SHUTDOWN": "2",
}


async def start(port: int = 0) -> tuple[asyncio.subprocess.Process, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHERD_")} | ENV
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pusherd",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 10)).decode()
        assert line, "the server exited before listening"
        found = re.search(r"listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            return process, int(found.group(1))


async def test_sigterm_sends_4200_and_pusher_js_reconnects_to_the_next_server(
    js: JsClients,
) -> None:
    first, port = await start()
    second = None
    try:
        ids = {
            name: await js.connected(name, ENV["PUSHERD_APP_KEY"], port) for name in ("a", "b", "c")
        }
        for name in ids:
            await js.subscribed(name, "room")
        signalled = time.monotonic()
        first.send_signal(signal.SIGTERM)
        for name in ids:
            report = await js.wait_for(lambda r, n=name: r["type"] == "error" and r["client"] == n)
            assert report["error"]["data"] == {
                "code": 4200,
                "message": "Server is shutting down; please reconnect",
            }
        assert await asyncio.wait_for(first.wait(), 15) == 0
        # The grace period (2 s) plus a generous allowance for a loaded machine's start-up
        # and teardown of the interpreter; without the bound the drain would take 10 s.
        assert time.monotonic() - signalled < 2.0 + 4.0, "exits within the grace period"

        second, _ = await start(port)
        for name, old in ids.items():
            report = await js.wait_for(
                lambda r, n=name, o=old: (
                    r["type"] == "state"
                    and r["client"] == n
                    and r["current"] == "connected"
                    and r["socket_id"] != o
                ),
                timeout=20,
            )
            assert report["socket_id"] != old
            # pusher-js resubscribes by itself after reconnecting.
            await js.wait_for(
                lambda r, n=name: (
                    r["type"] == "event"
                    and r["client"] == n
                    and r["event"] == "pusher:subscription_succeeded"
                    and r is not None
                ),
            )
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
