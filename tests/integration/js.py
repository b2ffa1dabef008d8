"""Driving unmodified pusher-js, Laravel Echo and the pusher npm SDK under Node from tests."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from typing import Any

import pusher

from pusherd.protocol.app import App
from tests.services import ROOT, require_node

DRIVER = ROOT / "tests" / "js" / "driver.mjs"
SDK = ROOT / "tests" / "js" / "sdk.mjs"

Report = dict[str, Any]

#: the encryption master key the npm SDK (tokens) and the PyPI SDK (triggers) share in tests
MASTER_KEY = base64.b64encode(os.urandom(32)).decode()


def sdk_tokens(app: App, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``connect`` fields that make the npm SDK answer pusher-js's authorizers for ``app``,
    and its user authenticator for ``user``."""
    fields: dict[str, Any] = {
        "sdk": {
            "appId": app.id,
            "key": app.key,
            "secret": str(app.secret),
            "encryptionMasterKeyBase64": MASTER_KEY,
        }
    }
    if user is not None:
        fields["user"] = user
    return fields


def python_sdk(port: int, app: App) -> pusher.Pusher:
    """The official pusher PyPI SDK for ``app`` on a local server, with the shared master key."""
    return pusher.Pusher(
        app_id=app.id,
        key=app.key,
        secret=str(app.secret),
        host="127.0.0.1",
        port=port,
        ssl=False,
        encryption_master_key_base64=MASTER_KEY,
    )


class JsClients:
    """One Node process hosting named pusher-js clients; every report it prints is kept."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.reports: list[Report] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._seq = 0

    @classmethod
    async def start(cls) -> JsClients:
        require_node()
        process = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        clients = cls(process)
        await clients.wait_for(lambda r: r["type"] == "ready")
        return clients

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            report = json.loads(line)
            report.setdefault("client", None)
            self.reports.append(report)
            self._changed.set()

    async def send(self, op: str, client: str | None = None, **fields: Any) -> None:
        """Send a command and wait until the driver has carried it out."""
        assert self.process.stdin is not None
        self._seq += 1
        seq = self._seq
        command = {"op": op, "client": client, "seq": seq, **fields}
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        found = await self.wait_for(
            lambda r: (r["type"] == "ack" and r.get("seq") == seq) or r["type"] == "failure"
        )
        if found["type"] == "failure":
            raise AssertionError(f"driver failed {op}: {found['message']}")

    async def connect(self, client: str, key: str, port: int, **fields: Any) -> None:
        options = {
            "wsHost": "127.0.0.1",
            "wsPort": port,
            "forceTLS": False,
            "enabledTransports": ["ws"],
            "cluster": "local",
            **fields.pop("options", {}),
        }
        await self.send("connect", client, key=key, options=options, **fields)

    async def connected(self, client: str, key: str, port: int, **fields: Any) -> str:
        """Connect and wait for ``connected``; returns the socket id."""
        await self.connect(client, key, port, **fields)
        report = await self.wait_for(
            lambda r: r["type"] == "state" and r["client"] == client and r["current"] == "connected"
        )
        return str(report["socket_id"])

    def events(self, client: str, event: str, channel: str | None = None) -> list[Report]:
        """The channel events ``client`` has received so far, in order."""
        return [
            r
            for r in self.reports
            if r["type"] == "event"
            and r["client"] == client
            and r["event"] == event
            and (channel is None or r["channel"] == channel)
        ]

    def matching(self, predicate: Callable[[Report], bool]) -> list[Report]:
        return [r for r in self.reports if predicate(r)]

    async def wait_for(self, predicate: Callable[[Report], bool], timeout: float = 10.0) -> Report:
        """Return the first report (old or new) matching ``predicate``."""

        async def scan() -> Report:
            index = 0
            while True:
                while index < len(self.reports):
                    report = self.reports[index]
                    index += 1
                    if predicate(report):
                        return report
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            recent = "\n".join(json.dumps(r) for r in self.reports[-15:])
            raise AssertionError(
                f"no matching report within {timeout}s; last reports:\n{recent}"
            ) from None

    async def event(self, client: str, channel: str, event: str, timeout: float = 10.0) -> Report:
        return await self.wait_for(
            lambda r: (
                r["type"] == "event"
                and r["client"] == client
                and r["channel"] == channel
                and r["event"] == event
            ),
            timeout,
        )

    async def subscribed(self, client: str, channel: str, bind: list[str] | None = None) -> Report:
        await self.send("subscribe", client, channel=channel, bind=bind or [])
        return await self.wait_for(
            lambda r: (
                r["type"] == "event"
                and r["client"] == client
                and r["channel"] == channel
                and r["event"] in ("pusher:subscription_succeeded", "pusher:subscription_error")
            )
        )

    async def signed_in(self, client: str) -> Report:
        """Ask ``client`` to sign in and wait for ``pusher:signin_success``."""
        await self.send("signin", client)
        return await self.wait_for(
            lambda r: (
                r["type"] == "global"
                and r["client"] == client
                and r["event"] == "pusher:signin_success"
            )
        )

    async def close(self) -> None:
        if self.process.returncode is None:
            try:
                await self.send("exit")
                await asyncio.wait_for(self.process.wait(), 5)
            except (AssertionError, TimeoutError, BrokenPipeError, ConnectionResetError):
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()


async def npm_sdk(app: dict[str, Any], calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Run calls of the official `pusher` npm SDK; returns one result per call."""
    require_node()
    process = await asyncio.create_subprocess_exec(
        "node", str(SDK), cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    payload = json.dumps({"app": app, "calls": [{"method": m, "args": a} for m, a in calls]})
    out, _ = await asyncio.wait_for(process.communicate(payload.encode()), 30)
    return [json.loads(line) for line in out.decode().splitlines()]
