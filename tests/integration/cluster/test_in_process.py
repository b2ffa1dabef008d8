"""Two nodes in this process on the real Redis, driven by raw WebSocket clients.

Quicker than separate processes, and the hub's cluster paths run under coverage.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from client_auth import authenticate_user, authorize_channel
from pusherd.protocol.app import App, Secret
from pusherd.testing import RunningServer, serve
from tests.integration.helpers import api
from tests.integration.raw import RawClient

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

APP = App(
    id="1",
    key="cluster-key",
    secret=Secret("cluster-secret"),
    enable_client_events=True,
    enable_user_authentication=True,
    enable_subscription_count=True,
)


@pytest.fixture
async def pair(redis_url: str, prefix: str) -> AsyncIterator[list[RunningServer]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                serve([APP], redis_url=redis_url, redis_prefix=prefix, redis_lease=1.5)
            )
            for _ in range(2)
        ]


async def connect(server: RunningServer) -> tuple[RawClient, str]:
    client = await RawClient.connect(server.port, f"/app/{APP.key}?protocol=7")
    return client, await client.established()


async def until(client: RawClient, event: str, channel: str | None = None) -> dict[str, Any]:
    """The next frame carrying ``event`` (on ``channel``), skipping others."""
    for _ in range(50):
        frame = await client.recv_json(timeout=10)
        if frame["event"] == event and (channel is None or frame.get("channel") == channel):
            data = frame.get("data")
            return json.loads(data) if isinstance(data, str) else frame
    raise AssertionError(f"no {event}")


async def join(server: RunningServer, user_id: str) -> tuple[RawClient, dict[str, Any]]:
    client, socket_id = await connect(server)
    member = {"user_id": user_id, "user_info": {"name": user_id.title()}}
    token = authorize_channel(APP.key, str(APP.secret), socket_id, "presence-room", member)
    client.send_json({"event": "pusher:subscribe", "data": {"channel": "presence-room", **token}})
    joined = await until(client, "pusher_internal:subscription_succeeded", "presence-room")
    return client, joined["presence"]


async def test_presence_events_counts_and_the_api_span_both_nodes(
    pair: list[RunningServer],
) -> None:
    a, b = pair
    ann, first = await join(a, "ann")
    assert first["ids"] == ["ann"]
    bob, second = await join(b, "bob")
    assert sorted(second["ids"]) == ["ann", "bob"]
    added = await until(ann, "pusher_internal:member_added", "presence-room")
    assert added == {"user_id": "bob", "user_info": {"name": "Bob"}}

    listen, _ = await connect(a)
    listen.send_json({"event": "pusher:subscribe", "data": {"channel": "news"}})
    await until(listen, "pusher_internal:subscription_succeeded")
    count = await until(listen, "pusher_internal:subscription_count", "news")
    assert count == {"subscription_count": 1}
    response = await api(
        b, "POST", f"/apps/{APP.id}/events", {"name": "hi", "channel": "news", "data": "{}"}, APP
    )
    assert response.status_code == 200
    assert (await until(listen, "hi", "news")) == {}

    users = (await api(a, "GET", f"/apps/{APP.id}/channels/presence-room/users", app=APP)).json()
    assert sorted(u["id"] for u in users["users"]) == ["ann", "bob"]
    listed = (await api(b, "GET", f"/apps/{APP.id}/channels", app=APP)).json()
    assert listed == {"channels": {"news": {}, "presence-room": {}}}
    info = (await api(b, "GET", f"/apps/{APP.id}/channels/news", app=APP)).json()
    assert info == {"occupied": True}

    await bob.close()
    removed = await until(ann, "pusher_internal:member_removed", "presence-room")
    assert removed == {"user_id": "bob"}
    for client in (ann, listen):
        await client.close()


async def test_a_cache_event_and_a_termination_reach_the_other_node(
    pair: list[RunningServer],
) -> None:
    a, b = pair
    body = {"name": "last", "channel": "cache-feed", "data": '{"n":1}'}
    assert (await api(a, "POST", f"/apps/{APP.id}/events", body, APP)).status_code == 200
    watcher, _ = await connect(b)
    watcher.send_json({"event": "pusher:subscribe", "data": {"channel": "cache-feed"}})
    assert (await until(watcher, "last", "cache-feed")) == {"n": 1}

    ann, socket_id = await connect(b)
    signed = authenticate_user(APP.key, str(APP.secret), socket_id, {"id": "ann"})
    ann.send_json({"event": "pusher:signin", "data": signed})
    await until(ann, "pusher:signin_success")
    path = f"/apps/{APP.id}/users/ann/terminate_connections"
    assert (await api(a, "POST", path, {}, APP)).status_code == 200
    error = await until(ann, "pusher:error")
    assert error["data"]["code"] == 4009
    assert (await ann.recv_close()).close_code == 4009
    for client in (watcher, ann):
        await client.close()
