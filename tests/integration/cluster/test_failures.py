"""A killed node, a lost Redis link: the cluster removes what is gone and heals what returns."""

from __future__ import annotations

import json
import re
import time

import anyio
import httpx
import pytest
import redis.asyncio as aioredis

from pusherd.testing import TEST_APP
from tests.integration.cluster.processes import NodeProcess, RedisProxy
from tests.integration.cluster.steps import (
    LEASE,
    StartNodes,
    call,
    connect_user,
    eventually,
    subscriptions,
    users,
)
from tests.integration.js import JsClients
from tests.integration.receiver import Receiver

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.node]

#: removal takes up to 4/3 of a lease; the rest is slack for a loaded machine
REMOVAL_BOUND = LEASE * 4 / 3 + 3.0


async def test_a_node_killed_without_goodbye_loses_its_members_within_the_lease(
    nodes: StartNodes, js: JsClients
) -> None:
    async with Receiver() as receiver:
        hooks = [{"url": receiver.url, "event_types": ["member_removed", "channel_vacated"]}]
        env = {"PUSHERD_APP_WEBHOOKS": json.dumps(hooks), "PUSHERD_WEBHOOK_DELAY": "0"}
        survivor, victim = await nodes(2, env=env)
        await connect_user(js, "bob", survivor, "bob", "Bob")
        await js.subscribed("bob", "presence-room")
        await connect_user(js, "ann", victim, "ann", "Ann")
        await js.subscribed("ann", "presence-room")
        await js.subscribed("ann", "victim-only")
        await js.event("bob", "presence-room", "pusher:member_added")
        # The cluster knows of a subscription once its count reached Redis.
        await eventually(lambda: subscriptions(survivor, "victim-only", 1))
        victim.kill()
        killed_at = time.monotonic()

        removed = await js.event("bob", "presence-room", "pusher:member_removed", REMOVAL_BOUND)
        print(f"member removed {time.monotonic() - killed_at:.2f}s after SIGKILL (lease {LEASE}s)")
        assert removed["data"]["id"] == "ann"
        assert await users(survivor, "presence-room") == ["bob"]
        assert await call(survivor, "channels_info") == {"channels": {"presence-room": {}}}

        expected = [
            {"name": "member_removed", "channel": "presence-room", "user_id": "ann"},
            {"name": "channel_vacated", "channel": "victim-only"},
        ]

        def hooked(r: Receiver) -> list[dict[str, str]]:
            return [
                {k: v for k, v in e.items() if k != "time_ms"}
                for d in r.delivered
                for e in d.events
            ]

        await receiver.wait(lambda r: len(hooked(r)) >= 2)
        await anyio.sleep(0.5)
        assert sorted(hooked(receiver), key=str) == sorted(expected, key=str)
        assert len(js.events("bob", "pusher:member_removed")) == 1


async def test_a_node_stopped_with_sigterm_withdraws_its_members(
    nodes: StartNodes, js: JsClients
) -> None:
    survivor, leaving = await nodes(2)
    await connect_user(js, "bob", survivor, "bob", "Bob")
    await js.subscribed("bob", "presence-room")
    await connect_user(js, "ann", leaving, "ann", "Ann")
    await js.subscribed("ann", "presence-room")
    await js.subscribed("ann", "leaving-only")
    await js.event("bob", "presence-room", "pusher:member_added")

    await leaving.stop()
    removed = await js.event("bob", "presence-room", "pusher:member_removed")
    assert removed["data"]["id"] == "ann"
    assert await users(survivor, "presence-room") == ["bob"]
    assert await call(survivor, "channels_info") == {"channels": {"presence-room": {}}}


@pytest.mark.parametrize("mode", ["reset", "silent"])
async def test_a_node_cut_off_from_redis_serves_alone_then_restates_itself(
    nodes: StartNodes, js: JsClients, mode: str
) -> None:
    async with RedisProxy() as proxy:
        (a,) = await nodes(1, url=proxy.url)
        (b,) = await nodes(1)
        for client, node in (("ann", a), ("bob", b), ("eve", b)):
            await connect_user(js, client, node, client, client.title())
            await js.subscribed(client, "presence-room")
            await js.subscribed(client, "news")
        await eventually(lambda: _members(js, "ann", {"ann", "bob", "eve"}))

        proxy.cut(mode)
        await eventually(lambda: _not_ready(a))
        # The others cannot tell a cut-off node from a dead one: its members go.
        await js.event("bob", "presence-room", "pusher:member_removed", REMOVAL_BOUND)
        # a serves its own clients alone: API events, new subscriptions, presence.
        await call(a, "trigger", "news", "local", {"n": 1})
        await js.event("ann", "news", "local")
        await connect_user(js, "cid", a, "cid", "Cid")
        joined = await js.subscribed("cid", "presence-room")
        assert set(joined["data"]["members"]) == {"ann", "bob", "cid", "eve"}
        await js.subscribed("cid", "news")
        assert await call(a, "channel_info", "news", ["subscription_count"]) == {
            "occupied": True,
            "subscription_count": 2,
        }
        # Meanwhile on b, which a cannot hear: eve leaves, dan comes.
        await js.send("disconnect", "eve")
        await connect_user(js, "dan", b, "dan", "Dan")
        await js.subscribed("dan", "presence-room")

        proxy.restore()
        await eventually(a.ready)
        # a restated its members and subscriptions; the cluster broadcast their return,
        # and a's clients were told what they missed.
        everyone = {"ann", "bob", "cid", "dan"}
        for client in ("ann", "bob", "cid", "dan"):
            await eventually(lambda client=client: _members(js, client, everyone))
        assert await users(b, "presence-room") == sorted(everyone)
        assert await users(a, "presence-room") == sorted(everyone)
        await eventually(lambda: subscriptions(b, "news", 3))
        await call(b, "trigger", "news", "shared", {"n": 2})
        for client in ("ann", "bob", "cid"):
            await js.event(client, "news", "shared")
        assert [r["data"]["id"] for r in js.events("ann", "pusher:member_removed")] == ["eve"]
        assert a.logged("backplane down") == 1
        assert b.logged("WARNING") == 0


async def test_a_node_whose_redis_connections_are_killed_links_again_and_loses_no_count(
    nodes: StartNodes, js: JsClients, redis_url: str
) -> None:
    a, b = await nodes(2)
    await js.connected("a", TEST_APP.key, a.port)
    await js.connected("b", TEST_APP.key, b.port)
    await js.subscribed("a", "news")
    await js.subscribed("b", "news")
    await eventually(lambda: subscriptions(b, "news", 2))

    client = aioredis.Redis.from_url(redis_url)
    try:
        killed = 0
        for entry in await client.client_list():
            if entry.get("name") == f"pusherd-{a.node_id}":
                killed += await client.client_kill_filter(_id=entry["id"])
        assert killed == 2
    finally:
        await client.aclose()
    await eventually(lambda: _linked(a, 2))
    await eventually(a.ready)

    await call(b, "trigger", "news", "after", {"n": 1})
    await js.event("a", "news", "after")
    assert await call(a, "channel_info", "news", ["subscription_count"]) == {
        "occupied": True,
        "subscription_count": 2,
    }
    assert a.logged("backplane down") == 1


async def test_ready_and_metrics_report_a_node_linked_to_redis(nodes: StartNodes) -> None:
    (a,) = await nodes(1)
    assert await a.ready()

    async def observed() -> bool:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{a.port}/metrics")).text
        count = re.search(r"^pusherd_adapter_round_trip_seconds_count (\S+)$", text, re.M)
        return count is not None and float(count.group(1)) > 0

    # The lease is renewed every third of it, through the same timed pipelines.
    await eventually(observed)


async def _not_ready(node: NodeProcess) -> bool:
    return not await node.ready()


async def _linked(node: NodeProcess, times: int) -> bool:
    return node.logged("backplane linked") >= times


async def _members(js: JsClients, client: str, wanted: set[str]) -> bool:
    """Whether pusher-js in ``client`` lists exactly ``wanted`` in presence-room."""
    before = len(js.reports)
    await js.send("members", client, channel="presence-room")
    report = next(r for r in js.reports[before:] if r["type"] == "members")
    return set(report["members"]) == wanted
