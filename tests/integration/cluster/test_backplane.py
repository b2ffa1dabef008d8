"""The Redis backplane in process, against the real Redis, with a stand-in node."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anyio
import pytest

from pusherd.backplane.base import ChannelEntry, Counted, MemberJoin
from pusherd.backplane.codec import Envelope
from pusherd.backplane.redis import RedisBackplane
from pusherd.protocol.registry import COUNT_THROTTLE_ABOVE, COUNT_THROTTLE_SECONDS
from server_api.hub import ChannelStats

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


class StandIn:
    """A node whose channels are given, recording what the cluster tells it."""

    def __init__(self, entries: list[ChannelEntry]) -> None:
        self.entries = entries
        self.envelopes: list[Envelope] = []
        self.webhooks: list[tuple[str, list[dict[str, Any]]]] = []
        self.cached: list[tuple[str, str, str, str, float]] = []

    def receive_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def snapshot(self) -> Iterable[ChannelEntry]:
        return self.entries

    def emit_cluster_webhooks(self, app_id: str, events: list[dict[str, Any]]) -> None:
        self.webhooks.append((app_id, events))

    def remember_cached(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        self.cached.append((app_id, channel, event, data, ttl))


def member(user_id: str) -> MemberJoin:
    return MemberJoin("1", "presence-room", user_id, "{}", "added", "removed", "")


@pytest.fixture
async def backplanes(redis_url: str, prefix: str) -> AsyncIterator[list[RedisBackplane]]:
    made = [RedisBackplane(redis_url, prefix=prefix, lease=1.5) for _ in range(2)]
    yield made
    for backplane in made:
        await backplane.stop()


async def test_a_node_restates_its_channels_when_it_links_and_withdraws_them_when_it_stops(
    backplanes: list[RedisBackplane],
) -> None:
    leaving, staying = backplanes
    node = StandIn(
        [
            ChannelEntry("1", "presence-room", 2, (member("ann"),)),
            ChannelEntry("1", "news", 3),
        ]
    )
    await leaving.start(node)
    await staying.start(StandIn([]))
    assert leaving.connected
    assert await staying.channels("1", "") == {
        "presence-room": ChannelStats(2, 1),
        "news": ChannelStats(3, 0),
    }
    assert await staying.presence_users("1", "presence-room") == ["ann"]

    await leaving.stop()
    assert await staying.channels("1", "") == {}
    # Linking restated the channels as new to the cluster; stopping took them out.
    linked, withdrawn = node.webhooks
    assert sorted(linked[1], key=str) == [
        {"name": "channel_occupied", "channel": "news"},
        {"name": "channel_occupied", "channel": "presence-room"},
        {"name": "member_added", "channel": "presence-room", "user_id": "ann"},
    ]
    assert withdrawn[0] == "1"
    assert sorted(withdrawn[1], key=str) == [
        {"name": "channel_vacated", "channel": "news"},
        {"name": "channel_vacated", "channel": "presence-room"},
        {"name": "member_removed", "channel": "presence-room", "user_id": "ann"},
    ]


async def test_a_node_that_links_later_gets_every_live_cached_event(
    backplanes: list[RedisBackplane],
) -> None:
    early, late = backplanes
    await early.start(StandIn([]))
    early.remember("1", "cache-a", "e", '{"n":1}', 60)
    early.remember("1", "cache-a", "e", '{"n":2}', 60)
    early.remember("1", "cache-gone", "e", "{}", 0.001)
    assert await early.channels("1", "") == {}  # a round trip: the writes were applied

    node = StandIn([])
    await late.start(node)
    assert await late.channels("1", "") == {}
    ((app_id, channel, event, data, ttl),) = node.cached
    assert (app_id, channel, event, data) == ("1", "cache-a", "e", '{"n":2}')
    assert 0 < ttl <= 60


async def test_subscription_counts_above_100_go_out_at_most_every_5_seconds(
    backplanes: list[RedisBackplane],
) -> None:
    counting, watching = backplanes
    node = StandIn([])
    await counting.start(node)
    watcher = StandIn([])
    await watching.start(watcher)
    answers: list[Counted | None] = []
    for _ in range(COUNT_THROTTLE_ABOVE + 5):
        counting.count("1", "crowd", 1, ("n=", "."), answers.append)
    assert await counting.channels("1", "") == {"crowd": ChannelStats(COUNT_THROTTLE_ABOVE + 5)}

    sent = [c.total for c in answers if c is not None and c.announced]
    assert sent == list(range(1, COUNT_THROTTLE_ABOVE + 1))
    # The held-back count goes out once, with the total of its time, by the next flush.
    deadline = time.monotonic() + COUNT_THROTTLE_SECONDS + 10
    while not any(e.message == "n=105." for e in node.envelopes):
        assert time.monotonic() < deadline, "the held-back count never went out"
        await anyio.sleep(0.1)
    counts = [e.message for e in node.envelopes if e.message.startswith("n=")]
    assert counts == [f"n={n}." for n in range(1, COUNT_THROTTLE_ABOVE + 1)] + ["n=105."]
    # Whichever node flushed it sent the webhook.
    hooks = [event for _, events in node.webhooks + watcher.webhooks for event in events]
    assert {"name": "subscription_count", "channel": "crowd", "subscription_count": 105} in hooks


async def test_a_node_whose_scripts_redis_forgot_links_again_and_answers_every_call(
    backplanes: list[RedisBackplane], caplog: pytest.LogCaptureFixture
) -> None:
    backplane, _ = backplanes
    await backplane.start(StandIn([ChannelEntry("1", "news", 1)]))
    # As after a restart or SCRIPT FLUSH (not done here: other users share this Redis).
    backplane._sha["COUNT"] = "0" * 40
    answers: list[Counted | None] = []
    backplane.count("1", "news", 1, None, answers.append)
    backplane.count("1", "news", 1, None, answers.append)

    deadline = time.monotonic() + 10
    while len(answers) < 2 or not backplane.connected:
        assert time.monotonic() < deadline, "no answer, or no new link"
        await anyio.sleep(0.05)
    assert answers == [None, None]
    assert [r.message for r in caplog.records if r.levelname == "WARNING"] == [
        "backplane down (redis no longer has the backplane's scripts): "
        "serving this node's clients alone until redis returns"
    ]
    # Linked again, it restated its one subscription and counts from there.
    backplane.count("1", "news", 1, None, answers.append)
    assert await backplane.channels("1", "") == {"news": ChannelStats(2)}
    assert answers[2] == Counted(2)
