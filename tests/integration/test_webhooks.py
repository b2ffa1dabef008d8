"""Webhooks delivered to a real local receiver and checked with both official SDKs' validators."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pusherd.protocol.app import App, Webhook
from pusherd.testing import TEST_APP, RunningServer, serve
from tests.integration.helpers import api, npm_validates, pypi_validates, subscriber
from tests.integration.js import JsClients
from tests.integration.receiver import Receiver
from tests.services import require_redis

pytestmark = pytest.mark.anyio

ALL = (
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
    "cache_miss",
    "subscription_count",
)
FAST = {"webhook_delay": 0.3, "webhook_retry_initial": 0.1, "webhook_timeout": 2.0}


def hooked(receiver: Receiver, *types: str, **changes: object) -> App:
    hook = Webhook(url=receiver.url, event_types=types or ALL)
    return dataclasses.replace(TEST_APP, webhooks=(hook,), **changes)  # type: ignore[arg-type]


def names(receiver: Receiver) -> list[str]:
    return [event["name"] for request in receiver.delivered for event in request.events]


def delivery_counts(server: RunningServer) -> dict[str, float]:
    text = server.node.metrics.route(None).body.decode()  # type: ignore[arg-type]
    for family in text_string_to_metric_families(text):
        if family.name == "pusherd_webhook_deliveries":
            return {
                s.labels["result"]: s.value for s in family.samples if s.name.endswith("_total")
            }
    raise AssertionError("no webhook metric")


async def test_occupied_and_vacated_reach_the_receiver_valid_for_both_sdks() -> None:
    async with Receiver() as receiver:
        app = hooked(receiver)
        async with serve([app], **FAST) as server:
            client = await subscriber(server, "room")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await client.close()
            await receiver.wait(lambda r: len(r.delivered) == 2)
        requests = receiver.delivered
        assert [r.events for r in requests] == [
            [{"name": "channel_occupied", "channel": "room"}],
            [{"name": "channel_vacated", "channel": "room"}],
        ]
        for request in requests:
            assert request.headers["content-type"] == "application/json"
            assert request.headers["x-pusher-key"] == app.key
            assert pypi_validates(app, request) == request.json
        results = await npm_validates(app, requests)
        assert [r["valid"] for r in results] == [True, True]
        assert [r["events"] for r in results] == [r.events for r in requests]


async def test_cache_miss_and_subscription_count_reach_the_receiver_valid_for_both_sdks() -> None:
    async with Receiver() as receiver:
        app = hooked(receiver, "cache_miss", "subscription_count", enable_subscription_count=True)
        async with serve([app], **FAST) as server:
            first = await subscriber(server, "cache-price")
            second = await subscriber(server, "cache-price")
            await receiver.wait(
                lambda r: "cache_miss" in names(r) and names(r).count("subscription_count") == 2
            )
            events = [e for r in receiver.delivered for e in r.events]
            await first.close()
            await second.close()
        assert {"name": "cache_miss", "channel": "cache-price"} in events
        counts = [e for e in events if e["name"] == "subscription_count"]
        assert sorted(counts, key=lambda e: e["subscription_count"]) == [
            {"name": "subscription_count", "channel": "cache-price", "subscription_count": 1},
            {"name": "subscription_count", "channel": "cache-price", "subscription_count": 2},
        ]
        for request in receiver.delivered:
            assert request.headers["content-type"] == "application/json"
            assert pypi_validates(app, request) == request.json
        results = await npm_validates(app, receiver.delivered)
        assert all(r["valid"] for r in results)
        assert [r["events"] for r in results] == [r.events for r in receiver.delivered]


async def test_the_npm_validator_rejects_a_tampered_body() -> None:
    async with Receiver() as receiver:
        app = hooked(receiver)
        async with serve([app], **FAST) as server:
            client = await subscriber(server, "room")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await client.close()
        request = receiver.delivered[0]
        tampered = dataclasses.replace(request, body=request.body.replace(b"room", b"roam"))
        assert [r["valid"] for r in await npm_validates(app, [request, tampered])] == [True, False]
        assert pypi_validates(app, tampered) is None


async def test_a_quick_leave_and_rejoin_sends_no_vacated_or_second_occupied() -> None:
    async with Receiver() as receiver:
        app = hooked(receiver, "channel_occupied", "channel_vacated")
        async with serve([app], **{**FAST, "webhook_delay": 0.5}) as server:
            first = await subscriber(server, "room")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await first.close()
            await asyncio.sleep(0.1)
            second = await subscriber(server, "room")
            await asyncio.sleep(1.0)
            assert names(receiver) == ["channel_occupied"]
            await second.close()
            await receiver.wait(lambda r: len(r.delivered) == 2)
        assert names(receiver) == ["channel_occupied", "channel_vacated"]


async def test_filters_send_each_target_only_its_channels() -> None:
    async with Receiver() as wanted, Receiver() as other:
        app = dataclasses.replace(
            TEST_APP,
            webhooks=(
                Webhook(url=wanted.url, event_types=("channel_occupied",), filter_prefix="orders-"),
                Webhook(url=other.url, event_types=("channel_occupied",), filter_suffix="-eu"),
            ),
        )
        async with serve([app], **FAST) as server:
            client = await subscriber(server, "orders-1", "chat-eu", "chat-us")
            await wanted.wait(lambda r: len(r.delivered) == 1)
            await other.wait(lambda r: len(r.delivered) == 1)
            await asyncio.sleep(0.3)
            await client.close()
        assert [r.events for r in wanted.delivered] == [
            [{"name": "channel_occupied", "channel": "orders-1"}]
        ]
        assert [r.events for r in other.delivered] == [
            [{"name": "channel_occupied", "channel": "chat-eu"}]
        ]


async def test_presence_and_client_events_from_pusher_js_carry_user_ids_and_string_data(
    js: JsClients,
) -> None:
    async with Receiver() as receiver:
        app = hooked(receiver, "member_added", "member_removed", "client_event")
        async with serve([app], **FAST) as server:
            sdk = {"appId": app.id, "key": app.key, "secret": str(app.secret)}
            await js.connected(
                "a", app.key, server.port, sdk=sdk, user={"id": "42", "user_info": {"n": 1}}
            )
            await js.subscribed("a", "presence-room")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await js.send(
                "trigger", "a", channel="presence-room", event="client-typing", data={"t": 1}
            )
            await receiver.wait(lambda r: len(r.delivered) == 2)
            await js.send("disconnect", "a")
            await receiver.wait(lambda r: len(r.delivered) == 3)
        events = [r.events[0] for r in receiver.delivered]
        socket_id = events[1]["socket_id"]
        assert events == [
            {"name": "member_added", "channel": "presence-room", "user_id": "42"},
            {
                "name": "client_event",
                "channel": "presence-room",
                "event": "client-typing",
                "data": '{"t":1}',
                "socket_id": socket_id,
                "user_id": "42",
            },
            {"name": "member_removed", "channel": "presence-room", "user_id": "42"},
        ]
        results = await npm_validates(app, receiver.delivered)
        assert all(r["valid"] for r in results)
        assert all(pypi_validates(app, r) is not None for r in receiver.delivered)


async def test_batching_puts_events_of_250_ms_in_one_request() -> None:
    async with Receiver() as receiver:
        app = hooked(receiver, "channel_occupied", webhook_batching=True)
        async with serve([app], **FAST) as server:
            client = await subscriber(server, "a", "b", "c")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await asyncio.sleep(0.4)
            await client.close()
        assert [[e["channel"] for e in r.events] for r in receiver.delivered] == [["a", "b", "c"]]
        assert pypi_validates(app, receiver.delivered[0]) is not None


async def test_a_receiver_failing_for_a_while_gets_the_same_signed_request_again() -> None:
    async with Receiver() as receiver:
        receiver.status = lambda n: 503 if n < 2 else 204
        app = hooked(receiver, "channel_occupied")
        async with serve([app], **FAST) as server:
            client = await subscriber(server, "room")
            await receiver.wait(lambda r: len(r.delivered) == 1)
            for _ in range(100):
                if delivery_counts(server)["success"]:
                    break
                await asyncio.sleep(0.02)
            assert delivery_counts(server) == {
                "success": 1,
                "retry": 2,
                "dead_letter": 0,
                "lost": 0,
            }
            await client.close()
        assert receiver.answered == [503, 503, 204]
        assert len({r.body for r in receiver.received}) == 1, "a retry resends the same bytes"
        assert pypi_validates(app, receiver.delivered[0]) is not None


async def test_a_receiver_that_never_recovers_gets_a_dead_letter_that_can_be_replayed() -> None:
    async with Receiver() as receiver:
        receiver.status = lambda n: 500
        app = hooked(receiver, "channel_occupied")
        async with serve([app], **{**FAST, "webhook_retry_window": 0.5}) as server:
            client = await subscriber(server, "room")
            path = f"/apps/{app.id}/webhooks/dead_letters"
            for _ in range(100):
                listing = (await api(server, "GET", path)).json()["dead_letters"]
                if listing:
                    break
                await asyncio.sleep(0.05)
            [letter] = listing
            assert letter["events"] == [{"name": "channel_occupied", "channel": "room"}]
            assert letter["error"] == "HTTP 500"
            assert letter["attempts"] == len(receiver.received) >= 3
            assert delivery_counts(server)["dead_letter"] == 1

            unsigned = await api(
                server, "GET", path, app=dataclasses.replace(app, secret=type(app.secret)("wrong"))
            )
            assert unsigned.status_code == 401

            receiver.status = lambda n: 200
            replay = await api(server, "POST", path + "/replay", {"ids": [letter["id"]]})
            assert replay.status_code == 200
            assert replay.json()["replayed"] == 1
            await receiver.wait(lambda r: len(r.delivered) == 1)
            assert (await api(server, "GET", path)).json() == {"dead_letters": []}
            await client.close()
        replayed = receiver.delivered[0]
        assert replayed.body != receiver.received[0].body, (
            "a replay is a new body with a new time_ms"
        )
        assert replayed.json["time_ms"] > receiver.received[0].json["time_ms"]
        assert pypi_validates(app, replayed) is not None
        assert (await npm_validates(app, [replayed]))[0]["valid"] is True


@pytest.mark.redis
async def test_with_redis_a_restart_loses_no_pending_webhook_or_dead_letter() -> None:
    url = require_redis()
    prefix = f"pusherd-test-{uuid.uuid4().hex[:8]}"
    options = {**FAST, "redis_url": url, "redis_prefix": prefix, "webhook_retry_initial": 30.0}
    async with Receiver() as receiver:
        receiver.status = lambda n: 503
        app = hooked(
            receiver, "channel_occupied", "subscription_count", enable_subscription_count=True
        )
        try:
            async with serve([app], **options) as server:
                client = await subscriber(server, "room")
                await receiver.wait(lambda r: len(r.received) >= 2)
                await client.close()
            pending = receiver.received[0].body
            receiver.status = lambda n: 200
            async with serve([app], **options) as server:
                await receiver.wait(lambda r: any(d.body == pending for d in r.delivered))
            # A dead letter written by one process is listed and replayed by the next.
            receiver.status = lambda n: 500
            async with serve(
                [app], **{**options, "webhook_retry_initial": 0.1, "webhook_retry_window": 0.3}
            ) as server:
                client = await subscriber(server, "dead")
                await receiver.wait(lambda r: sum(1 for s in r.answered if s == 500) >= 3)
                await asyncio.sleep(0.5)
                await client.close()
            receiver.status = lambda n: 200
            async with serve([app], **options) as server:
                path = f"/apps/{app.id}/webhooks/dead_letters"
                letters = (await api(server, "GET", path)).json()["dead_letters"]
                assert {"name": "channel_occupied", "channel": "dead"} in [
                    e for letter in letters for e in letter["events"]
                ]
                assert (await api(server, "POST", path + "/replay", {})).json()["replayed"] == len(
                    letters
                )
                await receiver.wait(
                    lambda r: any(
                        {"name": "channel_occupied", "channel": "dead"} in d.events
                        for d in r.delivered
                    )
                )
        finally:
            import redis.asyncio as redis

            client = redis.Redis.from_url(url)
            keys = [k async for k in client.scan_iter(f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
