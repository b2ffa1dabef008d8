"""The HTTP API and presence see the whole cluster, exactly."""

from __future__ import annotations

import anyio
import pytest

from pusherd.testing import TEST_APP
from tests.integration.cluster.steps import (
    StartNodes,
    call,
    connect_user,
    eventually,
    subscriptions,
    users,
)
from tests.integration.js import JsClients

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.node]


async def test_the_api_lists_channels_and_counts_of_the_whole_cluster(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b, c = await nodes(3)
    await js.connected("a", TEST_APP.key, a.port)
    await js.connected("c", TEST_APP.key, c.port)
    await js.subscribed("a", "news")
    await js.subscribed("c", "news")
    await js.subscribed("c", "sports")

    await eventually(lambda: subscriptions(b, "news", 2))
    listed = await call(b, "channels_info", attributes=["subscription_count"])
    assert listed == {
        "channels": {"news": {"subscription_count": 2}, "sports": {"subscription_count": 1}}
    }

    await js.send("disconnect", "c")
    await eventually(lambda: subscriptions(b, "news", 1))
    assert await call(a, "channels_info") == {"channels": {"news": {}}}
    assert await call(b, "channel_info", "sports") == {"occupied": False}


async def test_presence_counts_a_user_once_across_nodes_and_tabs(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b, c = await nodes(3)
    await connect_user(js, "ann-1", a, "ann", "Ann")
    joined = await js.subscribed("ann-1", "presence-room")
    assert joined["event"] == "pusher:subscription_succeeded"
    await connect_user(js, "bob", b, "bob", "Bob")
    joined = await js.subscribed("bob", "presence-room")
    assert joined["data"]["count"] == 2
    assert joined["data"]["members"] == {"ann": {"name": "Ann"}, "bob": {"name": "Bob"}}
    await js.event("ann-1", "presence-room", "pusher:member_added")

    # Ann's second tab, on a third node, is the same member.
    await connect_user(js, "ann-2", c, "ann", "Ann")
    joined = await js.subscribed("ann-2", "presence-room")
    assert joined["data"]["count"] == 2
    assert await users(b, "presence-room") == ["ann", "bob"]
    info = await call(c, "channel_info", "presence-room", ["user_count"])
    assert info == {"occupied": True, "user_count": 2}
    listed = await call(a, "channels_info", "presence-", ["user_count"])
    assert listed == {"channels": {"presence-room": {"user_count": 2}}}

    await js.send("disconnect", "ann-1")
    await anyio.sleep(0.5)
    assert js.events("bob", "pusher:member_removed") == []
    await js.send("disconnect", "ann-2")
    removed = await js.event("bob", "presence-room", "pusher:member_removed")
    assert removed["data"] == {"id": "ann", "info": {"name": "Ann"}}
    assert js.events("bob", "pusher:member_added") == []
    assert [r["data"]["id"] for r in js.events("ann-1", "pusher:member_added")] == ["bob"]
    assert js.events("ann-2", "pusher:member_added") == []
    assert await users(a, "presence-room") == ["bob"]
    await anyio.sleep(0.3)
    assert len(js.events("bob", "pusher:member_removed")) == 1
