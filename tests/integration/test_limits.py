"""Every limit of LIMITS.md §1 at its boundary: the last allowed value passes, the next is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

import pytest
from websockets.frames import Opcode

from client_auth.channels import authorize_channel
from pusherd.config import Settings
from pusherd.protocol.app import App
from pusherd.testing import TEST_APP, RunningServer, serve
from tests.integration.helpers import api
from tests.integration.raw import RawClient

pytestmark = pytest.mark.anyio


async def connect(server: RunningServer, app: App | None = None) -> tuple[RawClient, str]:
    client = await RawClient.connect(server.port, f"/app/{(app or server.app).key}?protocol=7")
    return client, await client.established()


async def join(
    client: RawClient, socket_id: str, channel: str, app: App, member: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Subscribe with a valid signature; returns the reply."""
    data: dict[str, Any] = {"channel": channel}
    if not channel.startswith("public"):
        data |= authorize_channel(app.key, str(app.secret), socket_id, channel, member)
    client.send_json({"event": "pusher:subscribe", "data": data})
    return await client.recv_json()


def test_the_defaults_are_those_of_the_spec_table() -> None:
    app = App(id="1", key="k", secret=TEST_APP.secret)
    assert (
        app.limit_event_data_bytes,
        app.limit_channels_per_trigger,
        app.limit_batch_events,
        app.limit_client_events_per_second,
        app.limit_presence_members,
        app.limit_user_info_bytes,
        app.limit_max_connections,
        app.limit_api_requests_per_second,
    ) == (10240, 100, 10, 10, 100, 1024, None, None)
    settings = Settings()
    assert (settings.limit_max_connections, settings.limit_http_body_bytes) == (None, 1_048_576)
    assert settings.ws_max_message_bytes == 102_400
    assert settings.webhook_retry_window == 300 and settings.webhook_delay == 3


async def test_an_app_over_its_connection_quota_is_closed_with_4004() -> None:
    app = dataclasses.replace(TEST_APP, limit_max_connections=3)
    async with serve([app]) as server:
        clients = [await connect(server) for _ in range(3)]
        extra = await RawClient.connect(server.port, f"/app/{app.key}?protocol=7")
        error = await extra.recv_json()
        assert error["data"] == {"code": 4004, "message": "Application is over connection quota"}
        assert (await extra.recv_close()).close_code == 4004
        await extra.close()
        # A place freed by a close is taken by the next connection.
        clients[0][0].send_frame(Opcode.CLOSE, b"\x03\xe8")
        await clients[0][0].recv_close()
        await clients[0][0].close()
        clients[0] = await connect(server)
        for client, _ in clients:
            await client.close()


async def test_the_server_connection_limit_closes_the_next_with_4100() -> None:
    other = dataclasses.replace(TEST_APP, id="2", key="other-key")
    async with serve([TEST_APP, other], limit_max_connections=2) as server:
        first, _ = await connect(server)
        second, _ = await connect(server, other)
        extra = await RawClient.connect(server.port, f"/app/{TEST_APP.key}?protocol=7")
        assert (await extra.recv_json())["data"] == {"code": 4100, "message": "Over capacity"}
        assert (await extra.recv_close()).close_code == 4100
        for client in (first, second, extra):
            await client.close()


async def test_ten_client_events_a_second_pass_and_the_eleventh_gets_4301(
    server: RunningServer,
) -> None:
    app = server.app
    sender, sender_id = await connect(server)
    listener, listener_id = await connect(server)
    for client, socket_id in ((sender, sender_id), (listener, listener_id)):
        reply = await join(client, socket_id, "private-chat", app)
        assert reply["event"] == "pusher_internal:subscription_succeeded"
    for n in range(11):
        sender.send_json({"event": "client-n", "channel": "private-chat", "data": {"n": n}})
    relayed = [(await listener.recv_json())["data"]["n"] for _ in range(10)]
    assert relayed == list(range(10))
    error = await sender.recv_json()
    assert error["event"] == "pusher:error"
    assert error["data"] == {"code": 4301, "message": "Client event rejected due to rate limit"}
    with pytest.raises(TimeoutError):
        await listener.recv(timeout=0.3)
    await sender.close()
    await listener.close()


async def test_client_event_data_of_10240_bytes_passes_and_10241_gets_4301(
    server: RunningServer,
) -> None:
    app = server.app
    sender, sender_id = await connect(server)
    listener, listener_id = await connect(server)
    await join(sender, sender_id, "private-big", app)
    await join(listener, listener_id, "private-big", app)
    sender.send_json({"event": "client-big", "channel": "private-big", "data": "x" * 10240})
    assert json.loads(json.dumps((await listener.recv_json())["data"])) == "x" * 10240
    sender.send_json({"event": "client-big", "channel": "private-big", "data": "x" * 10241})
    error = await sender.recv_json()
    assert error["data"] == {
        "code": 4301,
        "message": "The event data is larger than the allowed 10240 bytes.",
    }
    await sender.close()
    await listener.close()


async def test_api_event_data_of_10240_bytes_passes_and_10241_gets_413(
    server: RunningServer,
) -> None:
    path = f"/apps/{server.app.id}/events"
    ok = await api(server, "POST", path, {"name": "e", "channels": ["c"], "data": "é" * 5120})
    assert ok.status_code == 200
    big = await api(server, "POST", path, {"name": "e", "channels": ["c"], "data": "x" * 10241})
    assert big.status_code == 413
    assert big.json() == {"error": "The event data is larger than the allowed 10240 bytes."}


async def test_100_channels_per_trigger_pass_and_101_get_400(server: RunningServer) -> None:
    path = f"/apps/{server.app.id}/events"
    ok = await api(
        server, "POST", path, {"name": "e", "channels": [f"c{n}" for n in range(100)], "data": "x"}
    )
    assert ok.status_code == 200
    over = await api(
        server, "POST", path, {"name": "e", "channels": [f"c{n}" for n in range(101)], "data": "x"}
    )
    assert over.status_code == 400


async def test_10_events_per_batch_pass_and_11_get_400(server: RunningServer) -> None:
    path = f"/apps/{server.app.id}/batch_events"
    batch = [{"name": "e", "channel": "c", "data": str(n)} for n in range(11)]
    assert (await api(server, "POST", path, {"batch": batch[:10]})).status_code == 200
    over = await api(server, "POST", path, {"batch": batch})
    assert over.status_code == 400
    assert over.json() == {"error": "Cannot batch-send more than 10 messages at once"}


async def test_the_api_request_rate_answers_429_with_retry_after() -> None:
    app = dataclasses.replace(TEST_APP, limit_api_requests_per_second=5.0)
    async with serve([app]) as server:
        # Stop the limiter's clock, so a slow machine cannot refill the bucket mid-test.
        now = [float(int(time.time()))]
        server.node.api.clock = lambda: now[0]
        path = f"/apps/{app.id}/channels"
        responses = await asyncio.gather(*(api(server, "GET", path) for _ in range(6)))
        assert sorted(r.status_code for r in responses) == [200] * 5 + [429]
        [over] = [r for r in responses if r.status_code == 429]
        assert over.headers["retry-after"] == "1"
        assert "error" in over.json()
        now[0] += 0.5  # at most 5 in any one second: nothing is freed before it has passed
        assert (await api(server, "GET", path)).status_code == 429
        now[0] += 0.5
        assert [(await api(server, "GET", path)).status_code for _ in range(6)] == [200] * 5 + [429]


async def test_100_presence_members_join_and_the_101st_is_refused(server: RunningServer) -> None:
    app = server.app
    members = []
    for n in range(101):
        client, socket_id = await connect(server)
        reply = await join(client, socket_id, "presence-hall", app, {"user_id": str(n)})
        members.append(client)
        if n < 100:
            assert reply["event"] == "pusher_internal:subscription_succeeded", (n, reply)
        else:
            assert reply["event"] == "pusher:subscription_error"
            assert reply["data"]["type"] == "LimitReached"
    # A second connection of a user already present still joins.
    client, socket_id = await connect(server)
    reply = await join(client, socket_id, "presence-hall", app, {"user_id": "0"})
    assert reply["event"] == "pusher_internal:subscription_succeeded"
    for member in [*members, client]:
        await member.close()


async def test_user_info_of_1024_bytes_joins_and_1025_is_refused(server: RunningServer) -> None:
    app = server.app
    overhead = len(json.dumps({"a": ""}, separators=(",", ":")))
    fits = {"a": "x" * (1024 - overhead)}
    client, socket_id = await connect(server)
    reply = await join(client, socket_id, "presence-info", app, {"user_id": "1", "user_info": fits})
    assert reply["event"] == "pusher_internal:subscription_succeeded"
    other, other_id = await connect(server)
    reply = await join(
        other,
        other_id,
        "presence-info",
        app,
        {"user_id": "2", "user_info": {"a": "x" * (1025 - overhead)}},
    )
    assert reply["event"] == "pusher:subscription_error"
    assert reply["data"]["type"] == "LimitReached"
    await client.close()
    await other.close()


async def test_per_app_limits_are_configurable() -> None:
    app = dataclasses.replace(
        TEST_APP, limit_event_data_bytes=4, limit_channels_per_trigger=2, limit_batch_events=1
    )
    async with serve([app]) as small:
        path = f"/apps/{app.id}/events"
        assert (
            await api(small, "POST", path, {"name": "e", "channel": "c", "data": "1234"})
        ).status_code == 200
        assert (
            await api(small, "POST", path, {"name": "e", "channel": "c", "data": "12345"})
        ).status_code == 413
        assert (
            await api(small, "POST", path, {"name": "e", "channels": ["a", "b", "c"], "data": "1"})
        ).status_code == 400
        batch = [{"name": "e", "channel": "c", "data": "1"}] * 2
        assert (
            await api(small, "POST", f"/apps/{app.id}/batch_events", {"batch": batch})
        ).status_code == 400
