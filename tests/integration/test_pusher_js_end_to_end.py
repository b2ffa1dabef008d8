"""Encrypted and cache channels, counts, watchlists, sign-in presence and deadline, end to end.

Unmodified pusher-js and Laravel Echo under Node on one side, the official PyPI SDK on the
other; channel and user tokens come from the official npm SDK inside the Node process.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
import pusher
import pytest

from client_auth.channels import authorize_channel
from pusherd.protocol.app import App, Secret
from pusherd.testing import RunningServer, serve
from tests.integration.js import MASTER_KEY, JsClients, python_sdk, sdk_tokens
from tests.integration.raw import RawClient

pytestmark = [pytest.mark.anyio, pytest.mark.node]


async def trigger(sdk: pusher.Pusher, channel: str, event: str, data: Any) -> None:
    await anyio.to_thread.run_sync(lambda: sdk.trigger(channel, event, data))


async def cached(sdk: pusher.Pusher, channel: str) -> Any:
    info = await anyio.to_thread.run_sync(lambda: sdk.channel_info(channel, ["cache"]))
    return info["cache"]


def is_state(client: str, state: str) -> Any:
    return lambda r: r["type"] == "state" and r["client"] == client and r["current"] == state


async def test_pusher_js_and_echo_decrypt_what_the_python_sdk_encrypted(
    server: RunningServer, js: JsClients
) -> None:
    app = server.app
    await js.connected("js", app.key, server.port, **sdk_tokens(app))
    subscribed = await js.subscribed("js", "private-encrypted-vault")
    assert subscribed["event"] == "pusher:subscription_succeeded"
    await js.connected("echo", app.key, server.port, echo=True, **sdk_tokens(app))
    await js.send("echo", "echo", method="encryptedPrivate", channel="vault", listen=[".opened"])
    await js.wait_for(lambda r: r["type"] == "echo" and r["kind"] == "subscribed")
    # A bare subscriber sees what the server relays: the SDK's ciphertext, untouched.
    raw = await RawClient.connect(server.port, f"/app/{app.key}?protocol=7")
    socket_id = await raw.established()
    token = authorize_channel(
        app.key,
        str(app.secret),
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
    assert (await raw.recv_json())["event"] == "pusher_internal:subscription_succeeded"
    secret = {"pin": "4321", "note": "ouvert à 9h"}

    await trigger(python_sdk(server.port, server.app), "private-encrypted-vault", "opened", secret)

    assert (await js.event("js", "private-encrypted-vault", "opened"))["data"] == secret
    heard = await js.wait_for(lambda r: r["type"] == "echo" and r["kind"] == "listen:.opened")
    assert heard["data"] == secret
    relayed = await raw.recv_json()
    await raw.close()
    assert relayed["event"] == "opened"
    assert set(json.loads(relayed["data"])) == {"nonce", "ciphertext"}
    assert "4321" not in json.dumps(relayed)


@pytest.mark.parametrize(
    "channel",
    ["cache-rates", "private-cache-rates", "presence-cache-rates", "private-encrypted-cache-rates"],
)
async def test_every_cache_channel_type_reports_a_miss_then_replays_the_last_event(
    server: RunningServer, js: JsClients, channel: str
) -> None:
    app = server.app
    sdk = python_sdk(server.port, server.app)
    await js.connected("first", app.key, server.port, **sdk_tokens(app, {"id": "1"}))
    await js.subscribed("first", channel)
    await js.event("first", channel, "pusher:cache_miss")
    await trigger(sdk, channel, "rate", {"eur": 1})
    await trigger(sdk, channel, "rate", {"eur": 2})
    await js.wait_for(
        lambda r: r["type"] == "event" and r["client"] == "first" and r["data"] == {"eur": 2}
    )

    await js.connected("second", app.key, server.port, **sdk_tokens(app, {"id": "2"}))
    await js.subscribed("second", channel)

    replayed = await js.event("second", channel, "rate")
    assert replayed["data"] == {"eur": 2}
    assert [r["data"] for r in js.events("second", "rate")] == [{"eur": 2}]
    assert not js.events("second", "pusher:cache_miss")


async def test_a_cached_event_expires_after_the_apps_ttl(js: JsClients) -> None:
    app = App(id="21", key="ttl-key", secret=Secret("ttl-secret"), cache_ttl=1.0)
    async with serve(apps=[app]) as server:
        sdk = python_sdk(server.port, app)
        await trigger(sdk, "cache-news", "headline", {"n": 1})
        await js.connected("early", app.key, server.port)
        await js.subscribed("early", "cache-news")
        assert (await js.event("early", "cache-news", "headline"))["data"] == {"n": 1}
        with anyio.fail_after(30):
            while await cached(sdk, "cache-news") is not None:
                await anyio.sleep(0.2)

        await js.connected("late", app.key, server.port)
        await js.subscribed("late", "cache-news")

        await js.event("late", "cache-news", "pusher:cache_miss")
    assert not js.events("late", "headline")


async def test_subscription_counts_follow_joins_and_leaves_except_on_presence(
    js: JsClients,
) -> None:
    app = App(
        id="22",
        key="count-key",
        secret=Secret("count-secret"),
        enable_subscription_count=True,
    )
    async with serve(apps=[app]) as server:
        sdk = python_sdk(server.port, app)
        for client, user in (("a", "1"), ("b", "2")):
            await js.connected(client, app.key, server.port, **sdk_tokens(app, {"id": user}))
            await js.subscribed(client, "private-stats")
            await js.subscribed(client, "presence-stats")

        def count_seen_by_a(count: int, after: list[Any] | None = None) -> Any:
            earlier = {id(r) for r in after or ()}
            return lambda r: (
                id(r) not in earlier
                and r["type"] == "event"
                and r["client"] == "a"
                and r["channel"] == "private-stats"
                and r["event"] == "pusher:subscription_count"
                and r["data"] == {"subscription_count": count}
            )

        await js.wait_for(count_seen_by_a(2))
        info = await anyio.to_thread.run_sync(
            lambda: sdk.channel_info("private-stats", ["subscription_count"])
        )
        assert info == {"occupied": True, "subscription_count": 2}

        before = list(js.reports)  # "a" was told 1 when it subscribed alone
        await js.send("unsubscribe", "b", channel="private-stats")
        await js.wait_for(count_seen_by_a(1, after=before))
        info = await anyio.to_thread.run_sync(
            lambda: sdk.channel_info("private-stats", ["subscription_count"])
        )
    assert info == {"occupied": True, "subscription_count": 1}
    # "presence channels ... get member events instead" (PROTOCOL.md §10)
    assert not js.events("a", "pusher:subscription_count", "presence-stats")
    assert not js.events("b", "pusher:subscription_count", "presence-stats")


async def test_a_watched_user_goes_offline_with_its_last_tab_only(js: JsClients) -> None:
    app = App(
        id="23",
        key="watch-key",
        secret=Secret("watch-secret"),
        enable_user_authentication=True,
        enable_watchlist=True,
    )
    async with serve(apps=[app]) as server:
        watcher = {"id": "1", "watchlist": ["7", "8"]}
        await js.connected("watcher", app.key, server.port, **sdk_tokens(app, watcher))
        await js.signed_in("watcher")
        initial = await js.wait_for(lambda r: r["type"] == "watchlist")
        for tab in ("tab1", "tab2"):
            await js.connected(tab, app.key, server.port, **sdk_tokens(app, {"id": "7"}))
            await js.signed_in(tab)
        await js.wait_for(
            lambda r: (
                r["type"] == "watchlist"
                and r["name"] == "online"
                and r["data"]["user_ids"] == ["7"]
            )
        )

        await js.send("disconnect", "tab1")
        await js.wait_for(is_state("tab1", "disconnected"))
        await js.send("disconnect", "tab2")
        offline = await js.wait_for(
            lambda r: (
                r["type"] == "watchlist"
                and r["name"] == "offline"
                and r["data"]["user_ids"] == ["7"]
            )
        )

    watchlist = [r for r in js.reports if r["type"] == "watchlist"]
    assert initial == {
        "type": "watchlist",
        "client": "watcher",
        "name": "offline",
        "data": {"name": "offline", "user_ids": ["7", "8"]},
    }
    # tab1 closing said nothing: the offline frame is the one sent after tab2 closed.
    assert [(r["name"], r["data"]["user_ids"]) for r in watchlist] == [
        ("offline", ["7", "8"]),
        ("online", ["7"]),
        ("offline", ["7"]),
    ]
    assert watchlist[-1] is offline


async def test_pusher_js_that_neither_signs_in_nor_subscribes_privately_is_closed_in_time(
    js: JsClients,
) -> None:
    app = App(
        id="24",
        key="deadline-key",
        secret=Secret("deadline-secret"),
        enable_user_authentication=True,
        timeout_authorization=3.0,
    )
    async with serve(apps=[app], timeout_sweep=0.1) as server:
        await js.connected("signer", app.key, server.port, **sdk_tokens(app, {"id": "1"}))
        await js.signed_in("signer")
        await js.connected("member", app.key, server.port, **sdk_tokens(app))
        await js.subscribed("member", "private-room")
        # Opened last, so its deadline is the last of the three to pass.
        await js.connected("idle", app.key, server.port)
        await js.subscribed("idle", "public-room")

        error = await js.wait_for(
            lambda r: r["type"] == "error" and r["client"] == "idle", timeout=30
        )
        await js.wait_for(is_state("idle", "disconnected"), timeout=30)
        for client in ("signer", "member"):
            await js.send("state", client)
        # Read before the server stops and every client loses its connection.
        states: dict[str, list[str]] = {}
        for report in js.reports:
            if report["type"] == "state":
                states.setdefault(report["client"], []).append(report["current"])

    assert error["error"] == {
        "type": "PusherError",
        "data": {"code": 4009, "message": "Connection not authorized within timeout"},
    }
    # 4009 is in pusher-js's 4000-4099 "refused" range: it does not reconnect.
    assert states["idle"][-2:] == ["connected", "disconnected"]
    assert states["signer"][-1] == "connected" and "disconnected" not in states["signer"]
    assert states["member"][-1] == "connected" and "disconnected" not in states["member"]


async def test_a_presence_token_without_channel_data_joins_as_the_signed_in_user(
    server: RunningServer, js: JsClients
) -> None:
    # pusher-js >= 7.4 waits for sign-in when the token has no channel_data (PROTOCOL.md §8.5).
    app = server.app
    ann = {"id": "42", "user_info": {"name": "Ann"}}
    await js.connected("ann", app.key, server.port, **sdk_tokens(app, ann), presenceFromSignin=True)
    await js.connected("bob", app.key, server.port, **sdk_tokens(app, {"id": "7"}))
    await js.subscribed("bob", "presence-lobby")

    # Subscribing right after signin(): pusher-js holds the subscription until signin_success.
    await js.send("signin", "ann")
    await js.send("subscribe", "ann", channel="presence-lobby", bind=[])
    joined = await js.event("ann", "presence-lobby", "pusher:subscription_succeeded")
    added = await js.event("bob", "presence-lobby", "pusher:member_added")
    await js.send("members", "ann", channel="presence-lobby")
    members = await js.wait_for(lambda r: r["type"] == "members" and r["client"] == "ann")

    assert joined["data"]["me"] == {"id": "42", "info": {"name": "Ann"}}
    assert added["data"] == {"id": "42", "info": {"name": "Ann"}}
    assert members["members"] == {"7": None, "42": {"name": "Ann"}}
    assert members["count"] == 2
