"""Laravel Echo 2 on top of pusher-js, unmodified, against pusherd; events as Laravel broadcasts them."""

from __future__ import annotations

from typing import Any

import anyio
import pusher
import pytest

from pusherd.testing import RunningServer
from tests.integration.js import JsClients, Report

pytestmark = [pytest.mark.anyio, pytest.mark.node]


def echo_of(js: JsClients, client: str, kind: str, channel: str | None = None) -> list[Report]:
    return js.matching(
        lambda r: (
            r["type"] == "echo"
            and r["client"] == client
            and r["kind"] == kind
            and (channel is None or r["channel"] == channel)
        )
    )


async def echo_client(
    js: JsClients, server: RunningServer, name: str, user: dict[str, Any] | None = None
) -> None:
    app = server.app
    await js.connected(
        name,
        app.key,
        server.port,
        echo=True,
        sdk={"appId": app.id, "key": app.key, "secret": str(app.secret)},
        user=user,
    )


async def wait_echo(js: JsClients, client: str, kind: str, channel: str | None = None) -> Report:
    return await js.wait_for(
        lambda r: (
            r["type"] == "echo"
            and r["client"] == client
            and r["kind"] == kind
            and (channel is None or r["channel"] == channel)
        )
    )


async def test_private_listen_receives_a_namespaced_laravel_event(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await echo_client(js, server, "a", {"id": "1"})
    await js.send("echo", "a", method="private", channel="orders.1", listen=["OrderShipped"])
    await wait_echo(js, "a", "subscribed")
    # What Laravel's pusher broadcaster sends for `broadcast(new OrderShipped($order))`.
    payload = {"order": {"id": 1, "status": "shipped"}, "socket": None}
    await anyio.to_thread.run_sync(
        lambda: sdk.trigger("private-orders.1", "App\\Events\\OrderShipped", payload)
    )
    got = await wait_echo(js, "a", "listen:OrderShipped")
    assert got["data"] == payload


async def test_join_reports_here_joining_and_leaving(server: RunningServer, js: JsClients) -> None:
    await echo_client(js, server, "ann", {"id": "1", "user_info": {"name": "Ann"}})
    await js.send("echo", "ann", method="join", channel="chat.5")
    here = await wait_echo(js, "ann", "here")
    assert here["data"] == [{"name": "Ann"}]

    await echo_client(js, server, "bob", {"id": "2", "user_info": {"name": "Bob"}})
    await js.send("echo", "bob", method="join", channel="chat.5")
    bob_here = await wait_echo(js, "bob", "here")
    assert sorted(m["name"] for m in bob_here["data"]) == ["Ann", "Bob"]
    joining = await wait_echo(js, "ann", "joining")
    assert joining["data"] == {"name": "Bob"}

    await js.send("echo", "bob", method="leave", channel="chat.5")
    leaving = await wait_echo(js, "ann", "leaving")
    assert leaving["data"] == {"name": "Bob"}


async def test_whispers_reach_the_other_listener_only(server: RunningServer, js: JsClients) -> None:
    await echo_client(js, server, "ann", {"id": "1"})
    await echo_client(js, server, "bob", {"id": "2"})
    for name in ("ann", "bob"):
        await js.send(
            "echo", name, method="private", channel="conversation.9", listenForWhisper=["typing"]
        )
        await wait_echo(js, name, "subscribed")
    await js.send(
        "echo",
        "ann",
        method="whisper",
        channel="conversation.9",
        event="typing",
        data={"name": "Ann"},
    )
    got = await wait_echo(js, "bob", "whisper:typing")
    assert got["data"] == {"name": "Ann"}
    await anyio.sleep(0.2)
    assert not echo_of(js, "ann", "whisper:typing")


async def test_notifications_arrive_on_the_users_private_channel(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await echo_client(js, server, "a", {"id": "1"})
    await js.send("echo", "a", method="private", channel="App.Models.User.1", notification=True)
    await wait_echo(js, "a", "subscribed")
    notification = {"id": "9b1c", "type": "App\\Notifications\\TicketAssigned", "ticket": 12}
    await anyio.to_thread.run_sync(
        lambda: sdk.trigger(
            "private-App.Models.User.1",
            "Illuminate\\Notifications\\Events\\BroadcastNotificationCreated",
            notification,
        )
    )
    got = await wait_echo(js, "a", "notification")
    assert got["data"] == notification


async def test_a_refused_subscription_reaches_the_error_callback(
    server: RunningServer, js: JsClients
) -> None:
    app = server.app
    await js.connected(
        "a",
        app.key,
        server.port,
        echo=True,
        sdk={"appId": app.id, "key": app.key, "secret": "wrong"},
    )
    await js.send("echo", "a", method="private", channel="orders.2")
    error = await wait_echo(js, "a", "error")
    assert error["data"]["type"] == "AuthError" and error["data"]["status"] == 401
