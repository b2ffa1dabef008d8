"""What webhook requests to send and when: debounce, de-duplication, filters, batching, signing.

Pure: every method takes the current Unix time; nothing here sleeps or does I/O.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from client_auth.webhooks import sign_webhook
from pusherd.protocol.app import App, Webhook
from pusherd.protocol.names import WebhookName

#: WEBHOOKS.md §3: "when on, a request carries the events of up to 250 ms, at most 20"
BATCH_SECONDS = 0.25
BATCH_EVENTS = 20
#: WEBHOOKS.md §3: ``cache_miss`` is de-duplicated "within a short window"
CACHE_MISS_WINDOW = 1.0
#: headers a target's configuration may never replace (WEBHOOKS.md §5)
RESERVED_HEADERS = frozenset({"content-type", "x-pusher-key", "x-pusher-signature"})

Event = dict[str, Any]

#: a deferred event and the event that cancels it when it comes first
_DEFERRED = {
    WebhookName.CHANNEL_VACATED.value: WebhookName.CHANNEL_OCCUPIED.value,
    WebhookName.MEMBER_REMOVED.value: WebhookName.MEMBER_ADDED.value,
}
_CANCELS = {added: removed for removed, added in _DEFERRED.items()}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed webhook request to one target, and its retry state.

    Attributes:
        id: unique, to find it in the outbox and the dead-letter list.
        app_id: the app whose secret signed it.
        url: the target.
        headers: every request header, in order.
        body: the exact bytes signed and sent (``{"time_ms":..,"events":[..]}``).
        created: Unix time the request was built; the retry window counts from here.
        attempts: requests made so far.
        next_attempt: Unix time of the next attempt.
        error: what the last attempt got (status or exception name), for dead letters.
    """

    id: str
    app_id: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    created: float
    attempts: int = 0
    next_attempt: float = 0.0
    error: str = ""

    @property
    def events(self) -> list[Event]:
        return list(json.loads(self.body)["events"])

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "app_id": self.app_id,
                "url": self.url,
                "headers": self.headers,
                "body": self.body.decode(),
                "created": self.created,
                "attempts": self.attempts,
                "next_attempt": self.next_attempt,
                "error": self.error,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Delivery:
        data = json.loads(text)
        return cls(
            id=data["id"],
            app_id=data["app_id"],
            url=data["url"],
            headers=tuple((str(k), str(v)) for k, v in data["headers"]),
            body=data["body"].encode(),
            created=float(data["created"]),
            attempts=int(data["attempts"]),
            next_attempt=float(data["next_attempt"]),
            error=str(data.get("error", "")),
        )

    def summary(self) -> dict[str, Any]:
        """The dead-letter view an operator lists: no headers (they may hold tokens)."""
        return {
            "id": self.id,
            "url": self.url,
            "created_ms": int(self.created * 1000),
            "attempts": self.attempts,
            "error": self.error,
            "events": self.events,
        }


def build_delivery(app: App, target: Webhook, events: list[Event], now: float) -> Delivery:
    """Serialise once, sign those bytes, and build the request for one target (WEBHOOKS.md §1)."""
    body = json.dumps(
        {"time_ms": int(now * 1000), "events": events},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    headers = [(k, v) for k, v in target.headers if k.lower() not in RESERVED_HEADERS]
    headers += [
        # pusher-http-node compares this header for equality: nothing after the type.
        ("Content-Type", "application/json"),
        ("X-Pusher-Key", app.key),
        ("X-Pusher-Signature", sign_webhook(str(app.secret), body)),
    ]
    return Delivery(
        id=secrets.token_hex(8),
        app_id=app.id,
        url=target.url,
        headers=tuple(headers),
        body=body,
        created=now,
        next_attempt=now,
    )


def resign(app: App, delivery: Delivery, now: float) -> Delivery:
    """A dead letter replayed: the same events in a new body with the current time, signed again."""
    target = Webhook(
        url=delivery.url,
        event_types=(),
        headers=tuple((k, v) for k, v in delivery.headers if k.lower() not in RESERVED_HEADERS),
    )
    return build_delivery(app, target, delivery.events, now)


def matches(target: Webhook, event: Event) -> bool:
    """Tell whether ``target`` wants ``event``: its type, then every channel condition given."""
    if event["name"] not in target.event_types:
        return False
    channel = str(event.get("channel", ""))
    if target.filter_prefix is not None and not channel.startswith(target.filter_prefix):
        return False
    return target.filter_suffix is None or channel.endswith(target.filter_suffix)


@dataclass(slots=True)
class _Batch:
    app: App
    target: Webhook
    opened: float
    events: list[Event] = field(default_factory=list)


class Scheduler:
    """Turns the hub's webhook events into signed deliveries at the right time.

    - ``channel_vacated`` and ``member_removed`` wait ``delay`` seconds; a re-join in that
      time (``channel_occupied`` / ``member_added`` for the same channel and user) cancels
      both, so a page reload sends nothing (WEBHOOKS.md §3).
    - ``cache_miss`` for a channel is sent once per :data:`CACHE_MISS_WINDOW`.
    - Each target gets only its own events; with ``app.webhook_batching`` they are grouped
      for up to :data:`BATCH_SECONDS` or :data:`BATCH_EVENTS`, otherwise one per request.

    Args:
        delay: seconds to hold back vacated and member_removed events.
    """

    def __init__(self, delay: float = 3.0) -> None:
        self.delay = delay
        #: (app id, name, channel, user id) -> (due time, app, event)
        self._deferred: dict[tuple[str, str, str, str], tuple[float, App, Event]] = {}
        self._cache_misses: dict[tuple[str, str], float] = {}
        self._batches: dict[tuple[str, int], _Batch] = {}
        self._ready: list[Delivery] = []

    def add(self, app: App, events: Iterable[Event], now: float) -> None:
        """Take events as they happen."""
        for event in events:
            name = event["name"]
            channel = str(event.get("channel", ""))
            user = str(event.get("user_id", ""))
            if name in _DEFERRED:
                self._deferred[(app.id, name, channel, user)] = (now + self.delay, app, event)
                continue
            cancelled = _CANCELS.get(name)
            if (
                cancelled is not None
                and self._deferred.pop((app.id, cancelled, channel, user), None) is not None
            ):
                continue
            if name == WebhookName.CACHE_MISS.value:
                last = self._cache_misses.get((app.id, channel))
                if last is not None and now - last < CACHE_MISS_WINDOW:
                    continue
                self._cache_misses[(app.id, channel)] = now
            self._route(app, event, now)

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`poll` has something new to release, if any."""
        times = [due for due, _, _ in self._deferred.values()]
        times += [batch.opened + BATCH_SECONDS for batch in self._batches.values()]
        if self._ready:
            times.append(0.0)
        return min(times, default=None)

    def poll(self, now: float, *, everything: bool = False) -> list[Delivery]:
        """Return the deliveries due by ``now`` (all held ones with ``everything``)."""
        for key, (due, app, event) in list(self._deferred.items()):
            if everything or due <= now:
                del self._deferred[key]
                self._route(app, event, now)
        for target_key, batch in list(self._batches.items()):
            if everything or batch.opened + BATCH_SECONDS <= now:
                del self._batches[target_key]
                self._ready.append(
                    build_delivery(batch.app, batch.target, batch.events, batch.opened)
                )
        for channel_key, seen in list(self._cache_misses.items()):
            if now - seen >= CACHE_MISS_WINDOW:
                del self._cache_misses[channel_key]
        ready, self._ready = self._ready, []
        return ready

    def _route(self, app: App, event: Event, now: float) -> None:
        for index, target in enumerate(app.webhooks):
            if not matches(target, event):
                continue
            if not app.webhook_batching:
                self._ready.append(build_delivery(app, target, [event], now))
                continue
            key = (app.id, index)
            batch = self._batches.get(key)
            if batch is None:
                batch = self._batches[key] = _Batch(app, target, now)
            batch.events.append(event)
            if len(batch.events) >= BATCH_EVENTS:
                del self._batches[key]
                self._ready.append(build_delivery(app, target, batch.events, batch.opened))


def retry(delivery: Delivery, now: float, error: str, backoff: float) -> Delivery:
    """The delivery after a failed attempt, due again ``backoff`` seconds from ``now``."""
    return replace(
        delivery, attempts=delivery.attempts + 1, next_attempt=now + backoff, error=error
    )
