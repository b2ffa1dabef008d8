"""pusher-js subscribes to public channels; the official server SDKs publish to them."""

from __future__ import annotations

import json

import anyio
import pusher
import pytest

from pusherd.testing import RunningServer
from tests.integration.conftest import npm_app
from tests.integration.js import JsClients, npm_sdk

pytestmark = [pytest.mark.anyio, pytest.mark.node]


async def test_pusher_js_receives_json_and_string_data_triggered_by_the_python_sdk(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await js.connected("a", server.app.key, server.port)
    succeeded = await js.subscribed("a", "orders")
    assert succeeded["event"] == "pusher:subscription_succeeded"

    await anyio.to_thread.run_sync(lambda: sdk.trigger("orders", "created", {"id": 7, "name": "Ann"}))
    event = await js.event("a", "orders", "created")
    assert event["data"] == {"id": 7, "name": "Ann"}

    await anyio.to_thread.run_sync(lambda: sdk.trigger("orders", "note", "plain string"))
    event = await js.event("a", "orders", "note")
    assert event["data"] == "plain string"


async def test_an_event_to_several_channels_reaches_each_subscriber_once_per_channel(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await js.connected("a", server.app.key, server.port)
    await js.connected("b", server.app.key, server.port)
    await js.subscribed("a", "one")
    await js.subscribed("a", "two")
    await js.subscribed("b", "two")

    await anyio.to_thread.run_sync(lambda: sdk.trigger(["one", "two", "three"], "ping", {"n": 1}))
    await js.event("a", "one", "ping")
    await js.event("a", "two", "ping")
    await js.event("b", "two", "ping")
    await anyio.sleep(0.2)
    pings = js.events("a", "ping") + js.events("b", "ping")
    assert sorted((r["client"], r["channel"]) for r in pings) == [("a", "one"), ("a", "two"), ("b", "two")]


async def test_the_socket_id_given_to_the_api_is_excluded_from_delivery(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    socket_a = await js.connected("a", server.app.key, server.port)
    await js.connected("b", server.app.key, server.port)
    await js.subscribed("a", "room")
    await js.subscribed("b", "room")

    await anyio.to_thread.run_sync(lambda: sdk.trigger("room", "said", {"t": "hi"}, socket_id=socket_a))
    await js.event("b", "room", "said")
    await anyio.sleep(0.2)
    assert not js.events("a", "said")


async def test_a_batch_arrives_in_order_with_its_own_exclusions(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    socket_a = await js.connected("a", server.app.key, server.port)
    await js.connected("b", server.app.key, server.port)
    await js.subscribed("a", "feed")
    await js.subscribed("b", "feed")
    batch = [
        {"channel": "feed", "name": "step", "data": json.dumps({"n": n}), **({"socket_id": socket_a} if n == 2 else {})}
        for n in range(5)
    ]

    await anyio.to_thread.run_sync(lambda: sdk.trigger_batch(batch))
    for n in range(5):
        await js.wait_for(lambda r, n=n: r["type"] == "event" and r["client"] == "b" and r["data"] == {"n": n})
    # a's frames travel on another socket: wait for its last one too before comparing.
    await js.wait_for(lambda r: r["type"] == "event" and r["client"] == "a" and r["data"] == {"n": 4})
    steps_a = [r["data"]["n"] for r in js.events("a", "step")]
    steps_b = [r["data"]["n"] for r in js.events("b", "step")]
    assert steps_b == [0, 1, 2, 3, 4]
    assert steps_a == [0, 1, 3, 4]


async def test_the_npm_sdk_triggers_batches_and_reads_channel_state(server: RunningServer, js: JsClients) -> None:
    socket_b = await js.connected("b", server.app.key, server.port)
    await js.connected("a", server.app.key, server.port)
    await js.subscribed("a", "news")
    await js.subscribed("b", "news")

    results = await npm_sdk(
        npm_app(server),
        [
            ("trigger", ["news", "headline", {"title": "Hello"}]),
            ("trigger", [["news"], "quiet", "only for a", {"socket_id": socket_b}]),
            ("triggerBatch", [[{"channel": "news", "name": "b1", "data": "x"}, {"channel": "news", "name": "b2", "data": "y"}]]),
            ("get", [{"path": "/channels", "params": {"info": "subscription_count"}}]),
            ("get", [{"path": "/channels/news", "params": {"info": "subscription_count"}}]),
        ],
    )
    assert [r["status"] for r in results] == [200] * 5, results
    assert json.loads(results[3]["body"]) == {"channels": {"news": {"subscription_count": 2}}}
    assert json.loads(results[4]["body"]) == {"occupied": True, "subscription_count": 2}
    await js.event("a", "news", "headline")
    await js.event("b", "news", "headline")
    await js.event("a", "news", "quiet")
    await js.event("b", "news", "b2")
    assert js.events("a", "headline")[0]["data"] == {"title": "Hello"}
    assert not js.events("b", "quiet")


async def test_the_python_sdk_reads_channel_state(server: RunningServer, js: JsClients, sdk: pusher.Pusher) -> None:
    await js.connected("a", server.app.key, server.port)
    await js.subscribed("a", "lobby")

    channels = await anyio.to_thread.run_sync(lambda: sdk.channels_info(attributes=["subscription_count"]))
    info = await anyio.to_thread.run_sync(lambda: sdk.channel_info("lobby", ["subscription_count"]))
    empty = await anyio.to_thread.run_sync(lambda: sdk.channel_info("nobody-here"))

    assert channels == {"channels": {"lobby": {"subscription_count": 1}}}
    assert info == {"occupied": True, "subscription_count": 1}
    assert empty == {"occupied": False}


async def test_a_wrong_secret_is_refused_with_401_and_delivers_nothing(server: RunningServer, js: JsClients) -> None:
    await js.connected("a", server.app.key, server.port)
    await js.subscribed("a", "guarded")
    wrong = pusher.Pusher(
        app_id=server.app.id, key=server.app.key, secret="not-the-secret", host="127.0.0.1", port=server.port, ssl=False
    )

    with pytest.raises(pusher.errors.PusherBadAuth):
        await anyio.to_thread.run_sync(lambda: wrong.trigger("guarded", "evil", {}))
    await anyio.sleep(0.2)
    assert not js.events("a", "evil")


async def test_pusher_js_unsubscribes_and_stops_receiving(server: RunningServer, js: JsClients, sdk: pusher.Pusher) -> None:
    await js.connected("a", server.app.key, server.port)
    await js.subscribed("a", "temp")
    await js.send("unsubscribe", "a", channel="temp")
    for _ in range(50):
        info = await anyio.to_thread.run_sync(lambda: sdk.channel_info("temp"))
        if not info["occupied"]:
            break
        await anyio.sleep(0.05)
    assert info == {"occupied": False}
