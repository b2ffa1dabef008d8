"""Private, presence, encrypted and cache channels, client events and users, with unmodified pusher-js.

Channel authorization and user authentication are answered by the official `pusher` npm SDK
inside the Node process (pusher-js ``customHandler``), so every token is the SDK's own.
"""

from __future__ import annotations

import base64
import json

import anyio
import pusher
import pytest

from pusherd.protocol.app import App, Secret
from pusherd.testing import RunningServer, serve
from tests.integration.conftest import npm_app
from tests.integration.js import MASTER_KEY, JsClients, npm_sdk, sdk_tokens

pytestmark = [pytest.mark.anyio, pytest.mark.node]


async def test_a_private_channel_accepts_a_signed_subscriber_and_delivers_events(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await js.connected("a", server.app.key, server.port, **sdk_tokens(server.app))
    assert (await js.subscribed("a", "private-orders.1"))[
        "event"
    ] == "pusher:subscription_succeeded"
    await anyio.to_thread.run_sync(lambda: sdk.trigger("private-orders.1", "shipped", {"order": 1}))
    assert (await js.event("a", "private-orders.1", "shipped"))["data"] == {"order": 1}


async def test_a_private_channel_refuses_a_token_signed_with_another_secret(
    server: RunningServer, js: JsClients
) -> None:
    forged = {"sdk": {"appId": server.app.id, "key": server.app.key, "secret": "wrong-secret"}}
    await js.connected("a", server.app.key, server.port, **forged)
    error = await js.subscribed("a", "private-orders.1")
    assert error["event"] == "pusher:subscription_error"
    assert error["data"]["type"] == "AuthError" and error["data"]["status"] == 401
    assert error["data"]["error"].startswith(
        "Invalid signature: Expected HMAC SHA256 hex digest of "
    )
    # The connection stays usable.
    assert (await js.subscribed("a", "public-after-error"))[
        "event"
    ] == "pusher:subscription_succeeded"


async def test_presence_members_see_each_other_join_and_leave_and_tabs_count_once(
    server: RunningServer, js: JsClients
) -> None:
    ann = {"id": "1", "user_info": {"name": "Ann"}}
    bob = {"id": "2", "user_info": {"name": "Bob"}}
    await js.connected("ann", server.app.key, server.port, **sdk_tokens(server.app, ann))
    await js.subscribed("ann", "presence-room")
    await js.connected("bob1", server.app.key, server.port, **sdk_tokens(server.app, bob))
    await js.subscribed("bob1", "presence-room")
    added = await js.event("ann", "presence-room", "pusher:member_added")
    assert added["data"] == {"id": "2", "info": {"name": "Bob"}}

    await js.connected("bob2", server.app.key, server.port, **sdk_tokens(server.app, bob))
    await js.subscribed("bob2", "presence-room")
    await js.send("members", "bob2", channel="presence-room")
    members = await js.wait_for(lambda r: r["type"] == "members" and r["client"] == "bob2")
    assert members["count"] == 2
    assert members["members"] == {"1": {"name": "Ann"}, "2": {"name": "Bob"}}
    assert members["me"] == {"id": "2", "info": {"name": "Bob"}}

    await js.send("disconnect", "bob1")
    await anyio.sleep(0.3)
    assert len(js.events("ann", "pusher:member_added", "presence-room")) == 1
    assert not js.events("ann", "pusher:member_removed", "presence-room"), (
        "Bob still has a tab open"
    )

    await js.send("disconnect", "bob2")
    removed = await js.event("ann", "presence-room", "pusher:member_removed")
    assert removed["data"] == {"id": "2", "info": {"name": "Bob"}}


async def test_the_api_lists_presence_users_and_counts(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    for name, user_id in (("a", "1"), ("b", "2"), ("c", "2")):
        await js.connected(
            name, server.app.key, server.port, **sdk_tokens(server.app, {"id": user_id})
        )
        await js.subscribed(name, "presence-team")
    users = await anyio.to_thread.run_sync(lambda: sdk.users_info("presence-team"))
    info = await anyio.to_thread.run_sync(
        lambda: sdk.channel_info("presence-team", ["user_count", "subscription_count"])
    )
    listing = await anyio.to_thread.run_sync(
        lambda: sdk.channels_info(prefix_filter="presence-", attributes=["user_count"])
    )
    assert sorted(u["id"] for u in users["users"]) == ["1", "2"]
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}
    assert listing == {"channels": {"presence-team": {"user_count": 2}}}


async def test_encrypted_events_from_the_sdk_are_decrypted_by_pusher_js_and_never_by_the_server(
    server: RunningServer, js: JsClients
) -> None:
    await js.connected("a", server.app.key, server.port, **sdk_tokens(server.app))
    assert (await js.subscribed("a", "private-encrypted-vault"))[
        "event"
    ] == "pusher:subscription_succeeded"
    app = {**npm_app(server), "encryptionMasterKeyBase64": MASTER_KEY}
    results = await npm_sdk(
        app, [("trigger", ["private-encrypted-vault", "secret", {"pin": "4321"}])]
    )
    assert results[0]["status"] == 200, results
    event = await js.event("a", "private-encrypted-vault", "secret")
    assert event["data"] == {"pin": "4321"}


async def test_client_events_on_encrypted_channels_are_refused(
    server: RunningServer, js: JsClients
) -> None:
    await js.connected("a", server.app.key, server.port, **sdk_tokens(server.app))
    await js.subscribed("a", "private-encrypted-vault")
    # pusher-js itself refuses to send them; a raw frame is what the server would see.
    from client_auth.channels import authorize_channel
    from tests.integration.raw import RawClient

    raw = await RawClient.connect(server.port, f"/app/{server.app.key}?protocol=7")
    socket_id = await raw.established()
    token = authorize_channel(
        server.app.key,
        str(server.app.secret),
        socket_id,
        "private-encrypted-vault",
        encryption_master_key=base64.b64decode(MASTER_KEY),
    )
    raw.send_json(
        {
            "event": "pusher:subscribe",
            "data": {"channel": "private-encrypted-vault", "auth": token["auth"]},
        }
    )
    await raw.recv_json()
    raw.send_json({"event": "client-x", "channel": "private-encrypted-vault", "data": {}})
    error = await raw.recv_json()
    await raw.close()
    assert error == {
        "event": "pusher:error",
        "channel": "private-encrypted-vault",
        "data": {"code": None, "message": "Client events are not supported on encrypted channels"},
    }
    await anyio.sleep(0.2)
    assert not js.events("a", "client-x")


async def test_cache_channels_replay_the_last_event_or_report_a_miss(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    await js.connected("a", server.app.key, server.port)
    await js.subscribed("a", "cache-price")
    await js.event("a", "cache-price", "pusher:cache_miss")
    await anyio.to_thread.run_sync(lambda: sdk.trigger("cache-price", "price", {"eur": 10}))
    await anyio.to_thread.run_sync(lambda: sdk.trigger("cache-price", "price", {"eur": 11}))
    await js.connected("b", server.app.key, server.port)
    await js.subscribed("b", "cache-price")
    replay = await js.event("b", "cache-price", "price")
    assert replay["data"] == {"eur": 11}
    assert not js.events("b", "pusher:cache_miss")
    info = await anyio.to_thread.run_sync(lambda: sdk.channel_info("cache-price", ["cache"]))
    assert json.loads(info["cache"]["data"]) == {"eur": 11} and 0 < info["cache"]["ttl"] <= 1800


async def test_client_events_reach_the_other_members_with_user_id_and_never_echo(
    server: RunningServer, js: JsClients
) -> None:
    await js.connected("ann", server.app.key, server.port, **sdk_tokens(server.app, {"id": "1"}))
    await js.connected("bob", server.app.key, server.port, **sdk_tokens(server.app, {"id": "2"}))
    await js.subscribed("ann", "presence-chat")
    await js.subscribed("bob", "presence-chat", bind=["client-typing"])
    await js.send(
        "trigger", "ann", channel="presence-chat", event="client-typing", data={"typing": True}
    )
    typing = await js.wait_for(lambda r: r["type"] == "bound" and r["client"] == "bob")
    assert typing["data"] == {"typing": True}
    assert typing["metadata"] == {"user_id": "1"}

    await js.subscribed("ann", "private-dm", bind=["client-note"])
    await js.subscribed("bob", "private-dm")
    await js.send("trigger", "bob", channel="private-dm", event="client-note", data="plain")
    note = await js.wait_for(lambda r: r["type"] == "bound" and r["client"] == "ann")
    assert note["data"] == "plain" and not (note["metadata"] or {}).get("user_id")
    await anyio.sleep(0.2)
    assert not js.events("ann", "client-typing") and not js.events("bob", "client-note")


async def test_client_events_are_refused_when_the_app_disables_them() -> None:
    app = App(id="7", key="quiet-key", secret=Secret("quiet-secret"), enable_client_events=False)
    async with serve(apps=[app]) as server:
        from client_auth.channels import authorize_channel
        from tests.integration.raw import RawClient

        raw = await RawClient.connect(server.port, "/app/quiet-key")
        socket_id = await raw.established()
        token = authorize_channel("quiet-key", "quiet-secret", socket_id, "private-x")["auth"]
        raw.send_json(
            {"event": "pusher:subscribe", "data": {"channel": "private-x", "auth": token}}
        )
        await raw.recv_json()
        raw.send_json({"event": "client-x", "channel": "private-x", "data": {}})
        error = await raw.recv_json()
        await raw.close()
    assert error["data"] == {
        "code": 4301,
        "message": "The app does not have client messaging enabled.",
    }


async def test_sign_in_send_to_user_and_terminate(
    server: RunningServer, js: JsClients, sdk: pusher.Pusher
) -> None:
    user = {"id": "42", "user_info": {"name": "Ann"}}
    for tab in ("tab1", "tab2"):
        await js.connected(tab, server.app.key, server.port, **sdk_tokens(server.app, user))
        await js.signed_in(tab)
    await js.connected("other", server.app.key, server.port, **sdk_tokens(server.app, {"id": "7"}))
    await js.signed_in("other")

    await anyio.to_thread.run_sync(lambda: sdk.send_to_user("42", "invoice", {"total": 99}))
    for tab in ("tab1", "tab2"):
        got = await js.wait_for(
            lambda r, tab=tab: (
                r["type"] == "user" and r["client"] == tab and r["event"] == "invoice"
            )
        )
        assert got["data"] == {"total": 99}

    await anyio.to_thread.run_sync(lambda: sdk.terminate_user_connections("42"))
    for tab in ("tab1", "tab2"):
        await js.wait_for(
            lambda r, tab=tab: (
                r["type"] == "state" and r["client"] == tab and r["current"] == "disconnected"
            )
        )
    await anyio.sleep(1.5)
    assert not js.matching(lambda r: r["type"] == "user" and r["client"] == "other")
    states = [
        r["current"] for r in js.matching(lambda r: r["type"] == "state" and r["client"] == "tab1")
    ]
    assert states[-1] == "disconnected", "4009 stops pusher-js from reconnecting"
    other = [
        r["current"] for r in js.matching(lambda r: r["type"] == "state" and r["client"] == "other")
    ]
    assert other[-1] == "connected"


async def test_the_watchlist_reports_who_is_online_and_changes(
    server: RunningServer, js: JsClients
) -> None:
    app = App(
        id="9",
        key="watch-key",
        secret=Secret("watch-secret"),
        enable_user_authentication=True,
        enable_watchlist=True,
    )
    async with serve(apps=[app]) as watch_server:
        auth = {"sdk": {"appId": "9", "key": "watch-key", "secret": "watch-secret"}}
        await js.connected("seven", "watch-key", watch_server.port, **auth, user={"id": "7"})
        await js.send("signin", "seven")
        await js.wait_for(
            lambda r: r["client"] == "seven" and r.get("event") == "pusher:signin_success"
        )
        await js.connected(
            "ann", "watch-key", watch_server.port, **auth, user={"id": "1", "watchlist": ["7", "9"]}
        )
        await js.send("signin", "ann")
        online = await js.wait_for(lambda r: r["type"] == "watchlist" and r["name"] == "online")
        offline = await js.wait_for(lambda r: r["type"] == "watchlist" and r["name"] == "offline")
        assert online["data"]["user_ids"] == ["7"] and offline["data"]["user_ids"] == ["9"]

        await js.connected("nine", "watch-key", watch_server.port, **auth, user={"id": "9"})
        await js.send("signin", "nine")
        await js.wait_for(
            lambda r: (
                r["type"] == "watchlist"
                and r["name"] == "online"
                and r["data"]["user_ids"] == ["9"]
            )
        )
        await js.send("disconnect", "seven")
        await js.wait_for(
            lambda r: (
                r["type"] == "watchlist"
                and r["name"] == "offline"
                and r["data"]["user_ids"] == ["7"]
            )
        )


async def test_sign_in_is_refused_when_the_app_does_not_enable_it(js: JsClients) -> None:
    app = App(id="8", key="nosign-key", secret=Secret("nosign-secret"))
    async with serve(apps=[app]) as server:
        auth = {"sdk": {"appId": "8", "key": "nosign-key", "secret": "nosign-secret"}}
        await js.connected("a", "nosign-key", server.port, **auth, user={"id": "1"})
        await js.send("signin", "a")
        error = await js.wait_for(lambda r: r["type"] == "global" and r["event"] == "pusher:error")
    assert error["data"] == {
        "code": 4009,
        "message": "User authentication is not enabled for this app",
    }


async def test_subscription_counts_reach_pusher_js_when_the_app_enables_them(js: JsClients) -> None:
    app = App(
        id="10", key="count-key", secret=Secret("count-secret"), enable_subscription_count=True
    )
    async with serve(apps=[app]) as server:
        await js.connected("a", "count-key", server.port)
        await js.subscribed("a", "stats")
        first = await js.event("a", "stats", "pusher:subscription_count")
        await js.connected("b", "count-key", server.port)
        await js.subscribed("b", "stats")
        second = await js.wait_for(
            lambda r: (
                r["type"] == "event"
                and r["client"] == "a"
                and r["event"] == "pusher:subscription_count"
                and r["data"] == {"subscription_count": 2}
            )
        )
    assert first["data"] == {"subscription_count": 1}
    assert second["data"] == {"subscription_count": 2}
