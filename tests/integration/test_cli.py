"""The ``pusherd`` command as an operator runs it: a real process on uvloop, its log, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import pytest

from tests.integration.raw import RawClient

pytestmark = pytest.mark.anyio


async def start(*args: str, **env: str) -> tuple[asyncio.subprocess.Process, int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pusherd",
        "--port",
        "0",
        *args,
        env={**os.environ, **env},
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
        assert line, "pusherd exited before it listened:\n" + "".join(lines)
        lines.append(line)
        found = re.search(r"listening on ws://127\.0\.0\.1:(\d+)/app/", line)
        if found:
            return process, int(found.group(1)), lines


async def test_the_command_serves_the_development_app_and_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHERD_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pusherd", "--port", "0", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    log = b""
    while b"development app" not in log:
        log += await asyncio.wait_for(process.stderr.readline(), 20)
    port = int(re.search(rb"127\.0\.0\.1:(\d+)/app/", log).group(1))  # type: ignore[union-attr]
    client = await RawClient.connect(port, "/app/app-key?protocol=7")
    await client.established()
    await client.close()
    process.terminate()
    assert await asyncio.wait_for(process.wait(), 20) == 0
    assert b"secret=" not in log and b"app-secret" not in log, "no secret in the log"


async def test_sigterm_sends_4200_to_connected_clients_and_exits_cleanly() -> None:
    process, port, _ = await start(
        "--timeout-shutdown",
        "1",
        PUSHERD_APP_ID="11",
        PUSHERD_APP_KEY="cli-key",
        PUSHERD_APP_SECRET="cli-secret",
    )
    clients = [await RawClient.connect(port, "/app/cli-key?protocol=7") for _ in range(3)]
    for client in clients:
        await client.established()
    process.send_signal(signal.SIGTERM)
    for client in clients:
        error = await client.recv_json(timeout=5)
        close = await client.recv_close(timeout=5)
        assert error == {
            "event": "pusher:error",
            "data": {"code": 4200, "message": "Server is shutting down; please reconnect"},
        }
        assert close.close_code == 4200
        await client.close()
    assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_json_logs_are_one_object_a_line() -> None:
    import json

    process, _, lines = await start(
        "--log-format", "json", PUSHERD_APP_ID="12", PUSHERD_APP_KEY="k12", PUSHERD_APP_SECRET="s12"
    )
    process.terminate()
    await asyncio.wait_for(process.wait(), 20)
    entries = [json.loads(line) for line in lines]
    assert entries[-1]["level"] == "info" and entries[-1]["logger"] == "pusherd.hub"
    assert "s12" not in "".join(lines)
