"""The dispatcher's shutdown flush and dead letters, over an in-process httpx transport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pusherd.protocol.app import App, Secret, Webhook
from pusherd.webhooks import WebhookDispatcher
from pusherd.webhooks.outbox import MemoryOutbox
from pusherd.webhooks.schedule import Delivery

pytestmark = pytest.mark.anyio

HOOK = Webhook(url="http://receiver.test/hook", event_types=("channel_vacated", "channel_occupied"))
APP = App(id="1", key="key", secret=Secret("secret"), webhooks=(HOOK,))


class Apps:
    def by_id(self, app_id: str) -> App | None:
        return APP if app_id == APP.id else None

    def by_key(self, key: str) -> App | None:
        return APP if key == APP.key else None


def transport(status: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    return httpx.MockTransport(answer)


async def test_closing_sends_a_held_vacated_at_once() -> None:
    seen: list[httpx.Request] = []
    dispatcher = WebhookDispatcher(Apps(), delay=60.0, transport=transport(200, seen))
    await dispatcher.start()
    dispatcher.on_webhooks(APP, [{"name": "channel_vacated", "channel": "room"}])
    await dispatcher.close(grace=2.0)
    assert [json.loads(r.content)["events"] for r in seen] == [
        [{"name": "channel_vacated", "channel": "room"}]
    ]
    assert seen[0].headers["content-type"] == "application/json"
    assert dispatcher.results["success"] == 1


async def test_without_a_durable_outbox_what_fails_at_shutdown_is_counted_lost() -> None:
    seen: list[httpx.Request] = []
    outbox = MemoryOutbox()
    dispatcher = WebhookDispatcher(Apps(), outbox, transport=transport(503, seen))
    await dispatcher.start()
    dispatcher.on_webhooks(APP, [{"name": "channel_occupied", "channel": "room"}])
    await dispatcher.close(grace=2.0)
    assert len(seen) >= 1
    assert dispatcher.results["lost"] == 1


async def test_a_delivery_past_its_window_is_buried_and_replayed_with_a_new_signature() -> None:
    seen: list[httpx.Request] = []
    now = [1_700_000_000.0]
    dispatcher = WebhookDispatcher(
        Apps(), retry_window=0.0, clock=lambda: now[0], transport=transport(500, seen)
    )
    await dispatcher.start()
    dispatcher.on_webhooks(APP, [{"name": "channel_occupied", "channel": "room"}])
    for _ in range(100):
        if await dispatcher.dead_letters(APP.id):
            break
        await asyncio.sleep(0.01)
    [letter] = await dispatcher.dead_letters(APP.id)
    assert (letter["attempts"], letter["error"]) == (1, "HTTP 500")
    now[0] += 600
    [new_id] = await dispatcher.replay(APP.id)
    assert new_id != letter["id"]
    assert await dispatcher.dead_letters(APP.id) == []
    assert await dispatcher.replay("unknown-app") == []
    await dispatcher.close(grace=1.0)
    replayed = [r for r in seen if json.loads(r.content)["time_ms"] == int(now[0] * 1000)]
    assert replayed, "the replay carries the current time"
    assert replayed[0].headers["x-pusher-signature"] != seen[0].headers["x-pusher-signature"]


class StrictOutbox(MemoryOutbox):
    """Answers like a shared outbox (an update needs the entry) and can be down."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def add(self, delivery: Delivery) -> None:
        if self.down:
            raise ConnectionError("outbox down")
        await super().add(delivery)

    async def update(self, delivery: Delivery) -> bool:
        if self.down:
            raise ConnectionError("outbox down")
        if delivery.id not in self._pending:
            return False
        return await super().update(delivery)


async def test_a_delivery_added_while_the_outbox_was_down_is_kept_and_stored_later() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if len(seen) <= 2 else 200)

    outbox = StrictOutbox()
    dispatcher = WebhookDispatcher(
        Apps(), outbox, retry_initial=0.01, transport=httpx.MockTransport(answer)
    )
    await dispatcher.start()
    dispatcher.on_webhooks(APP, [{"name": "channel_occupied", "channel": "room"}])
    for _ in range(500):
        if len(seen) >= 1:
            break
        await asyncio.sleep(0.01)
    outbox.down = False  # back before the retry: the delivery is stored then, not dropped
    for _ in range(500):
        if dispatcher.results["success"]:
            break
        await asyncio.sleep(0.01)
    await dispatcher.close(grace=1.0)
    assert (dispatcher.results["retry"], dispatcher.results["success"]) == (2, 1)
    assert len({r.content for r in seen}) == 1
    assert outbox._pending == {}
