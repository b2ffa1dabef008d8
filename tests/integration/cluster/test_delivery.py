"""Every event reaches its subscribers on every node, once and in order."""

from __future__ import annotations

import anyio
import pytest

from pusherd.testing import TEST_APP
from tests.integration.cluster.processes import delete_prefix, unique_prefix
from tests.integration.cluster.steps import (
    SDK,
    StartNodes,
    call,
    connect_user,
    eventually,
    subscriptions,
)
from tests.integration.js import JsClients

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.node]


async def test_an_api_event_reaches_pusher_js_on_every_node_once_and_in_order(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b, c = await nodes(3)
    for client, node in (("a", a), ("b", b), ("c", c)):
        await js.connected(client, TEST_APP.key, node.port)
        await js.subscribed(client, "orders")
    await eventually(lambda: subscriptions(b, "orders", 3))

    # Publishes alternate between nodes; each node's own publishes keep their order.
    for n in range(20):
        await call(b if n % 2 else c, "trigger", "orders", "step", {"n": n})
    for client in "abc":
        for last in (18, 19):
            await js.wait_for(
                lambda r, client=client, last=last: (
                    r["type"] == "event" and r["client"] == client and r["data"] == {"n": last}
                )
            )
    await anyio.sleep(0.2)
    for client in "abc":
        received = [r["data"]["n"] for r in js.events(client, "step", "orders")]
        assert sorted(received) == list(range(20))
        assert [n for n in received if n % 2] == list(range(1, 20, 2))
        assert [n for n in received if not n % 2] == list(range(0, 20, 2))


async def test_a_client_event_reaches_subscribers_on_other_nodes_but_not_its_sender(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2)
    await js.connected("a", TEST_APP.key, a.port, sdk=SDK)
    await js.connected("b", TEST_APP.key, b.port, sdk=SDK)
    await js.subscribed("a", "private-chat")
    await js.subscribed("b", "private-chat")
    await eventually(lambda: subscriptions(a, "private-chat", 2))

    await js.send("trigger", "a", channel="private-chat", event="client-typing", data={"who": "a"})
    event = await js.event("b", "private-chat", "client-typing")
    assert event["data"] == {"who": "a"}
    await anyio.sleep(0.3)
    assert js.events("a", "client-typing") == []
    assert len(js.events("b", "client-typing")) == 1


async def test_an_api_event_skips_the_excluded_socket_on_another_node(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2)
    await js.connected("a", TEST_APP.key, a.port)
    skipped = await js.connected("b", TEST_APP.key, b.port)
    await js.subscribed("a", "orders")
    await js.subscribed("b", "orders")
    await eventually(lambda: subscriptions(a, "orders", 2))

    await call(a, "trigger", "orders", "placed", {"id": 1}, socket_id=skipped)
    await call(a, "trigger", "orders", "placed", {"id": 2})
    await js.event("b", "orders", "placed")
    await js.wait_for(
        lambda r: r["type"] == "event" and r["data"] == {"id": 2} and r["client"] == "a"
    )
    assert [r["data"] for r in js.events("b", "placed")] == [{"id": 2}]


async def test_a_user_is_reached_and_terminated_on_every_node(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2)
    await connect_user(js, "ann-a", a, "ann", "Ann")
    await connect_user(js, "ann-b", b, "ann", "Ann")
    for client in ("ann-a", "ann-b"):
        await js.signed_in(client)

    await call(a, "send_to_user", "ann", "note", {"t": "hi"})
    for client in ("ann-a", "ann-b"):
        await js.wait_for(
            lambda r, client=client: (
                r["type"] == "user" and r["client"] == client and r["event"] == "note"
            )
        )

    await call(b, "terminate_user_connections", "ann")
    for client in ("ann-a", "ann-b"):
        error = await js.wait_for(
            lambda r, client=client: r["type"] == "error" and r["client"] == client
        )
        assert error["error"]["data"]["code"] == 4009


async def test_two_prefixes_on_one_redis_never_see_each_other(
    nodes: StartNodes, js: JsClients, redis_url: str
) -> None:
    other = unique_prefix()
    try:
        (a,) = await nodes(1)
        (b,) = await nodes(1, prefix_=other)
        await js.connected("a", TEST_APP.key, a.port)
        await js.connected("b", TEST_APP.key, b.port)
        await js.subscribed("a", "shared-name")
        await js.subscribed("b", "shared-name")

        await call(a, "trigger", "shared-name", "hello", {"from": "a"})
        await js.event("a", "shared-name", "hello")
        await anyio.sleep(0.3)
        assert js.events("b", "hello") == []
        assert await call(b, "channel_info", "shared-name", ["subscription_count"]) == {
            "occupied": True,
            "subscription_count": 1,
        }
        assert await call(a, "channels_info") == {"channels": {"shared-name": {}}}
    finally:
        await delete_prefix(redis_url, other)


async def test_nodes_on_another_database_share_only_with_each_other(
    nodes: StartNodes, js: JsClients, redis_url: str, prefix: str
) -> None:
    # Same prefix, another database: Redis pub/sub alone would not keep them apart.
    other_db = redis_url.rsplit("/", 1)[0] + "/7"
    try:
        (a,) = await nodes(1)
        b, c = await nodes(2, url=other_db)
        for client, node in (("a", a), ("b", b), ("c", c)):
            await js.connected(client, TEST_APP.key, node.port)
            await js.subscribed(client, "shared-name")
        await eventually(lambda: subscriptions(c, "shared-name", 2))

        await call(b, "trigger", "shared-name", "hello", {"from": "b"})
        await js.event("c", "shared-name", "hello")
        await js.event("b", "shared-name", "hello")
        await anyio.sleep(0.3)
        assert js.events("a", "hello") == []
        assert await call(a, "channel_info", "shared-name", ["subscription_count"]) == {
            "occupied": True,
            "subscription_count": 1,
        }
    finally:
        await delete_prefix(other_db, prefix)


async def test_a_node_started_later_answers_with_the_last_event_of_a_cache_channel(
    nodes: StartNodes, js: JsClients
) -> None:
    (a,) = await nodes(1)
    await call(a, "trigger", "cache-weather", "forecast", {"sky": "clear"})
    await call(a, "trigger", "cache-weather", "forecast", {"sky": "rain"})
    (late,) = await nodes(1)

    await js.connected("late", TEST_APP.key, late.port)
    await js.subscribed("late", "cache-weather")
    cached = await js.event("late", "cache-weather", "forecast")
    assert cached["data"] == {"sky": "rain"}
    assert js.events("late", "pusher:cache_miss") == []
    info = await call(late, "channel_info", "cache-weather", ["cache"])
    assert info["cache"]["data"] == '{"sky": "rain"}'
