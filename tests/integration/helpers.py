"""Shared steps of the operations tests: raw subscribers, signed API calls, SDK validators."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pusher

from client_auth.api import encode_query, signed_params
from pusherd.protocol.app import App
from pusherd.testing import RunningServer
from tests.integration.raw import RawClient
from tests.integration.receiver import Received
from tests.services import ROOT, require_node

WEBHOOK_VALIDATOR = ROOT / "tests" / "js" / "webhook.mjs"


async def subscriber(server: RunningServer, *channels: str, app: App | None = None) -> RawClient:
    """A raw connection subscribed to public channels."""
    key = (app or server.app).key
    client = await RawClient.connect(server.port, f"/app/{key}?protocol=7")
    await client.established()
    for channel in channels:
        client.send_json({"event": "pusher:subscribe", "data": {"channel": channel}})
        reply = await client.recv_json()
        assert reply["event"] == "pusher_internal:subscription_succeeded", reply
    return client


async def api(
    server: RunningServer, method: str, path: str, body: Any = None, app: App | None = None
) -> httpx.Response:
    """A signed HTTP API request, as the SDKs sign them."""
    app = app or server.app
    raw = json.dumps(body).encode() if body is not None else b""
    query = signed_params(app.key, str(app.secret), method, path, raw)
    async with httpx.AsyncClient() as client:
        return await client.request(
            method, f"{server.http_url}{path}?{encode_query(query)}", content=raw
        )


def pypi_validates(app: App, request: Received) -> dict[str, Any] | None:
    """pusher-http-python's ``validate_webhook`` (key, HMAC, JSON, time_ms within 300 s)."""
    client = pusher.Pusher(app_id=app.id, key=app.key, secret=str(app.secret))
    return client.validate_webhook(
        request.headers.get("x-pusher-key"),
        request.headers.get("x-pusher-signature"),
        request.body.decode(),
    )


async def npm_validates(app: App, requests: list[Received]) -> list[dict[str, Any]]:
    """pusher-http-node's ``webhook(request).isValid()`` and ``getEvents()``, per request."""
    require_node()
    process = await asyncio.create_subprocess_exec(
        "node",
        str(WEBHOOK_VALIDATOR),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    payload = {
        "app": {"appId": app.id, "key": app.key, "secret": str(app.secret)},
        "requests": [{"headers": r.headers, "body": r.body.decode()} for r in requests],
    }
    out, _ = await asyncio.wait_for(process.communicate(json.dumps(payload).encode()), 30)
    return [json.loads(line) for line in out.decode().splitlines()]
