"""The pure webhook scheduler: debounce, de-duplication, filters, batching and signing."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pusher

from client_auth.webhooks import verify_webhook
from pusherd.protocol.app import App, Secret, Webhook
from pusherd.webhooks.schedule import BATCH_EVENTS, Delivery, Scheduler, build_delivery, resign

ALL = (
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
    "cache_miss",
    "subscription_count",
)
HOOK = Webhook(url="http://127.0.0.1:9/hook", event_types=ALL)
APP = App(id="1", key="key", secret=Secret("secret"), webhooks=(HOOK,))
T0 = 1_700_000_000.0


def occupied(channel: str = "room") -> dict[str, str]:
    return {"name": "channel_occupied", "channel": channel}


def vacated(channel: str = "room") -> dict[str, str]:
    return {"name": "channel_vacated", "channel": channel}


def events_of(deliveries: list[Delivery]) -> list[dict[str, object]]:
    return [event for delivery in deliveries for event in delivery.events]


def test_occupied_is_sent_at_once_and_vacated_after_the_delay() -> None:
    scheduler = Scheduler(delay=3.0)
    scheduler.add(APP, [occupied()], T0)
    assert events_of(scheduler.poll(T0)) == [occupied()]
    scheduler.add(APP, [vacated()], T0 + 1)
    assert scheduler.poll(T0 + 3.9) == []
    assert scheduler.next_deadline() == T0 + 4
    assert events_of(scheduler.poll(T0 + 4)) == [vacated()]
    assert scheduler.next_deadline() is None


def test_a_rejoin_within_the_delay_sends_neither_vacated_nor_occupied() -> None:
    scheduler = Scheduler(delay=3.0)
    scheduler.add(APP, [vacated()], T0)
    scheduler.add(APP, [occupied()], T0 + 2.9)
    assert scheduler.poll(T0 + 10) == []


def test_member_removed_is_cancelled_only_by_the_same_user_rejoining() -> None:
    scheduler = Scheduler(delay=3.0)
    removed = {"name": "member_removed", "channel": "presence-r", "user_id": "1"}
    scheduler.add(APP, [removed], T0)
    scheduler.add(APP, [{"name": "member_added", "channel": "presence-r", "user_id": "2"}], T0 + 1)
    assert events_of(scheduler.poll(T0 + 1)) == [
        {"name": "member_added", "channel": "presence-r", "user_id": "2"}
    ]
    scheduler.add(APP, [{"name": "member_added", "channel": "presence-r", "user_id": "1"}], T0 + 2)
    assert scheduler.poll(T0 + 10) == []


def test_cache_miss_is_sent_once_for_simultaneous_subscribers() -> None:
    scheduler = Scheduler()
    miss = {"name": "cache_miss", "channel": "cache-x"}
    scheduler.add(APP, [miss, miss], T0)
    scheduler.add(APP, [miss], T0 + 0.5)
    assert events_of(scheduler.poll(T0 + 0.5)) == [miss]
    scheduler.add(APP, [miss], T0 + 1.5)
    assert events_of(scheduler.poll(T0 + 1.5)) == [miss]


def test_each_target_gets_only_its_types_and_channels() -> None:
    private = Webhook(
        url="http://127.0.0.1:9/private",
        event_types=("channel_occupied",),
        filter_prefix="private-",
        filter_suffix="-eu",
    )
    counts = Webhook(url="http://127.0.0.1:9/counts", event_types=("subscription_count",))
    app = replace(APP, webhooks=(private, counts))
    scheduler = Scheduler()
    scheduler.add(
        app,
        [
            occupied("private-a-eu"),
            occupied("private-a-us"),
            occupied("public-eu"),
            {"name": "subscription_count", "channel": "c", "subscription_count": 2},
        ],
        T0,
    )
    sent = {d.url: d.events for d in scheduler.poll(T0)}
    assert sent == {
        private.url: [occupied("private-a-eu")],
        counts.url: [{"name": "subscription_count", "channel": "c", "subscription_count": 2}],
    }


def test_without_batching_every_event_is_its_own_request() -> None:
    scheduler = Scheduler()
    scheduler.add(APP, [occupied("a"), occupied("b")], T0)
    assert [d.events for d in scheduler.poll(T0)] == [[occupied("a")], [occupied("b")]]


def test_batching_groups_250_ms_of_events() -> None:
    app = replace(APP, webhook_batching=True)
    scheduler = Scheduler()
    scheduler.add(app, [occupied("a")], T0)
    scheduler.add(app, [occupied("b")], T0 + 0.2)
    assert scheduler.poll(T0 + 0.24) == []
    [delivery] = scheduler.poll(T0 + 0.25)
    assert delivery.events == [occupied("a"), occupied("b")]
    assert json.loads(delivery.body)["time_ms"] == int(T0 * 1000)


def test_a_full_batch_of_20_leaves_at_once() -> None:
    app = replace(APP, webhook_batching=True)
    scheduler = Scheduler()
    scheduler.add(app, [occupied(f"c{n}") for n in range(BATCH_EVENTS + 1)], T0)
    [full] = scheduler.poll(T0)
    assert len(full.events) == BATCH_EVENTS
    [rest] = scheduler.poll(T0 + 0.25)
    assert rest.events == [occupied(f"c{BATCH_EVENTS}")]


def test_a_request_is_signed_with_exact_json_content_type_and_accepted_by_the_pypi_sdk() -> None:
    target = Webhook(
        url="http://127.0.0.1:9/hook",
        event_types=ALL,
        headers=(("X-Env", "prod"), ("content-type", "text/plain"), ("X-Pusher-Key", "forged")),
    )
    now = time.time()
    delivery = build_delivery(APP, target, [occupied()], now)
    headers = dict(delivery.headers)
    assert headers == {
        "X-Env": "prod",
        "Content-Type": "application/json",
        "X-Pusher-Key": "key",
        "X-Pusher-Signature": headers["X-Pusher-Signature"],
    }
    assert verify_webhook("key", "secret", "key", headers["X-Pusher-Signature"], delivery.body)
    client = pusher.Pusher(app_id="1", key="key", secret="secret")
    validated = client.validate_webhook(
        "key", headers["X-Pusher-Signature"], delivery.body.decode()
    )
    assert validated is not None
    assert validated["events"] == [occupied()]


def test_a_replayed_dead_letter_is_resigned_with_the_current_time() -> None:
    target = Webhook(url="http://127.0.0.1:9/hook", event_types=ALL, headers=(("X-Env", "a"),))
    old = build_delivery(APP, target, [occupied()], T0)
    new = resign(APP, old, T0 + 600)
    assert new.id != old.id
    assert new.events == old.events
    assert json.loads(new.body)["time_ms"] == int((T0 + 600) * 1000)
    assert dict(new.headers)["X-Env"] == "a"
    assert verify_webhook("key", "secret", "key", dict(new.headers)["X-Pusher-Signature"], new.body)


def test_a_delivery_survives_its_json_round_trip() -> None:
    delivery = replace(build_delivery(APP, HOOK, [occupied()], T0), attempts=3, error="HTTP 500")
    assert Delivery.from_json(delivery.to_json()) == delivery
