"""Nodes sharing one Redis outbox: none sends another's live deliveries; a crashed node's are taken over."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from pusherd.apps import StaticAppStore
from pusherd.protocol.app import Webhook
from pusherd.testing import TEST_APP
from pusherd.webhooks import WebhookDispatcher
from pusherd.webhooks.redis_outbox import RedisOutbox
from pusherd.webhooks.schedule import build_delivery, retry
from tests.integration.receiver import Receiver
from tests.services import require_redis

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

HOOK = Webhook(url="http://127.0.0.1:9/hook", event_types=("channel_occupied",))


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    url = require_redis()
    name = f"pusherd-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(url)
    keys = [k async for k in client.scan_iter(f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def eventually(check: object, timeout: float = 10.0) -> None:
    async def scan() -> None:
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.05)

    await asyncio.wait_for(scan(), timeout)


async def test_a_delivery_moves_only_when_its_owner_is_gone_and_the_old_owner_lets_go(
    prefix: str,
) -> None:
    url = require_redis()
    first = RedisOutbox(url, prefix, heartbeat_ttl=2.0)
    second = RedisOutbox(url, prefix, heartbeat_ttl=60.0)
    try:
        delivery = build_delivery(TEST_APP, HOOK, [{"name": "channel_occupied"}], 1000.0)
        await first.heartbeat()
        await first.add(delivery)
        assert await second.claim() == [], "the owner's heartbeat is alive"
        assert await first.claim() == [], "nobody claims their own deliveries"

        # The first node stalls: its heartbeat expires and the second takes over.
        async def taken() -> bool:
            return bool(await second.claim())

        await eventually(taken)
        assert await second.claim() == [], "taken over once"
        failed = retry(delivery, 1001.0, "HTTP 503", 1.0)
        assert await first.update(failed) is False, "the old owner learns it lost the delivery"
        assert await first.bury(failed) is False
        assert await first.dead_letters(TEST_APP.id) == []
        assert await second.update(failed) is True
        assert await second.bury(failed) is True
        [letter] = await second.dead_letters(TEST_APP.id)
        assert letter == failed
        assert await second.claim() == [], "a dead letter is not pending"
    finally:
        await first.close()
        await second.close()


async def test_a_clean_close_hands_deliveries_over_at_once(prefix: str) -> None:
    url = require_redis()
    first = RedisOutbox(url, prefix, heartbeat_ttl=60.0)
    delivery = build_delivery(TEST_APP, HOOK, [{"name": "channel_occupied"}], 1000.0)
    await first.heartbeat()
    await first.add(delivery)
    await first.close()
    second = RedisOutbox(url, prefix, heartbeat_ttl=60.0)
    try:
        assert await second.claim() == [delivery]
    finally:
        await second.close()


async def test_a_live_node_keeps_its_deliveries_and_a_crashed_one_loses_none(prefix: str) -> None:
    url = require_redis()
    async with Receiver() as receiver:
        receiver.status = lambda n: 503
        app = dataclasses.replace(
            TEST_APP, webhooks=(Webhook(url=receiver.url, event_types=("channel_occupied",)),)
        )
        apps = StaticAppStore([app])

        def node() -> WebhookDispatcher:
            # Renewed every second: a loaded machine's stalls stay well inside the 3 s.
            outbox = RedisOutbox(url, prefix, heartbeat_ttl=3.0)
            return WebhookDispatcher(apps, outbox, retry_initial=30.0)

        first = node()
        await first.start()
        first.on_webhooks(app, [{"name": "channel_occupied", "channel": "room"}])
        await receiver.wait(lambda r: len(r.received) == 1)

        receiver.status = lambda n: 200
        second = node()
        await second.start()
        # The second node's claim rounds (at start, then every second) see a live owner.
        await asyncio.sleep(1.5)
        assert len(receiver.received) == 1, "the second node leaves a live node's delivery alone"

        # The first node crashes: its tasks stop and its heartbeat is not renewed.
        assert first._task is not None and first._keeper is not None
        first._task.cancel()
        first._keeper.cancel()
        await receiver.wait(lambda r: len(r.delivered) == 1, timeout=30)
        assert receiver.delivered[0].body == receiver.received[0].body
        await second.close(grace=1.0)
        await first.outbox.close()
        assert first._client is not None
        await first._client.aclose()
        assert len(receiver.received) == 2, "delivered once more, not by both"
