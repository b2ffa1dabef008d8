"""The chat and ticket measures, computed from plain timestamps (pure).

Definitions, in seconds:

- first response time: from a conversation's first message to the first message by
  someone else;
- time between messages: every gap between consecutive messages of a conversation;
- response time: when the sender changes, the time from the first message of the run
  being answered to the reply, i.e. how long the other side waited;
- long pauses: responses longer than the ``long_pause`` threshold (an overnight gap) are
  counted and summed apart, so they do not distort the active response time;
- p90: linear interpolation between closest ranks (numpy's default, ``statistics``
  ``method="inclusive"``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Count, mean, median and 90th percentile of durations (None when there are none)."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        """Summarise ``values``."""
        data = sorted(values)
        if not data:
            return cls(0, None, None, None)
        return cls(len(data), statistics.fmean(data), statistics.median(data), percentile(data, 90))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Return the ``pct``-th percentile of non-empty sorted values, interpolating linearly."""
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


@dataclass(frozen=True)
class ChatMessage:
    """What the chat measures need of a message."""

    sender_id: int
    created_at: datetime


def first_response_time(messages: Sequence[ChatMessage]) -> float | None:
    """Seconds from the first message to the first one by another sender; None if unanswered."""
    if not messages:
        return None
    opener = messages[0]
    for message in messages[1:]:
        if message.sender_id != opener.sender_id:
            return (message.created_at - opener.created_at).total_seconds()
    return None


def gaps(messages: Sequence[ChatMessage]) -> list[float]:
    """Seconds between each pair of consecutive messages."""
    return [
        (later.created_at - earlier.created_at).total_seconds()
        for earlier, later in itertools.pairwise(messages)
    ]


def response_times(messages: Sequence[ChatMessage]) -> list[float]:
    """Seconds each reply made the other side wait, from the first message of their run."""
    result: list[float] = []
    run_start: ChatMessage | None = None
    for message in messages:
        if run_start is None:
            run_start = message
        elif message.sender_id != run_start.sender_id:
            result.append((message.created_at - run_start.created_at).total_seconds())
            run_start = message
    return result


@dataclass(frozen=True)
class ChatMeasures:
    """The chat report."""

    conversations: int
    messages: int
    messages_per_conversation: Summary
    first_response: Summary
    between_messages: Summary
    response: Summary
    long_pauses: int
    long_pause_seconds: float
    long_pause_threshold: float

    def to_dict(self) -> dict[str, Any]:
        """Return the measures as plain JSON-ready data."""
        return asdict(self)


def chat_measures(
    conversations: Iterable[Sequence[ChatMessage]], *, long_pause: float
) -> ChatMeasures:
    """Compute the chat measures over conversations, each a time-ordered list of messages."""
    counts: list[float] = []
    first: list[float] = []
    between: list[float] = []
    active: list[float] = []
    paused: list[float] = []
    for messages in conversations:
        counts.append(len(messages))
        reply = first_response_time(messages)
        if reply is not None:
            first.append(reply)
        between.extend(gaps(messages))
        for wait in response_times(messages):
            (paused if wait > long_pause else active).append(wait)
    return ChatMeasures(
        conversations=len(counts),
        messages=int(sum(counts)),
        messages_per_conversation=Summary.of(counts),
        first_response=Summary.of(first),
        between_messages=Summary.of(between),
        response=Summary.of(active),
        long_pauses=len(paused),
        long_pause_seconds=sum(paused),
        long_pause_threshold=long_pause,
    )


@dataclass(frozen=True)
class TicketFacts:
    """What the ticket measures need of a ticket, with its SLA targets in seconds."""

    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_target: float
    resolution_target: float
    rating: int | None = None


@dataclass(frozen=True)
class TicketMeasures:
    """The ticket report."""

    tickets: int
    first_response: Summary
    resolution: Summary
    #: share of tickets whose first-response clock is decided that met it; None if none is
    sla_first_response_attainment: float | None
    sla_resolution_attainment: float | None
    rated: int
    rating_average: float | None
    rating_distribution: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the measures as plain JSON-ready data (distribution keys as strings)."""
        data = asdict(self)
        data["rating_distribution"] = {str(k): v for k, v in self.rating_distribution.items()}
        return data


def _attainment(
    started: datetime, done: datetime | None, target: float, now: datetime
) -> bool | None:
    """True if met, False if missed, None while still running within target."""
    if done is not None:
        return (done - started).total_seconds() <= target
    if (now - started).total_seconds() > target:
        return False
    return None


def _share(outcomes: list[bool | None]) -> float | None:
    decided = [o for o in outcomes if o is not None]
    return sum(decided) / len(decided) if decided else None


def ticket_measures(tickets: Iterable[TicketFacts], *, now: datetime) -> TicketMeasures:
    """Compute the ticket measures; ``now`` decides the clocks still running."""
    items = list(tickets)
    ratings = [t.rating for t in items if t.rating is not None]
    return TicketMeasures(
        tickets=len(items),
        first_response=Summary.of(
            (t.first_response_at - t.created_at).total_seconds()
            for t in items
            if t.first_response_at is not None
        ),
        resolution=Summary.of(
            (t.resolved_at - t.created_at).total_seconds()
            for t in items
            if t.resolved_at is not None
        ),
        sla_first_response_attainment=_share(
            [
                _attainment(t.created_at, t.first_response_at, t.first_response_target, now)
                for t in items
            ]
        ),
        sla_resolution_attainment=_share(
            [_attainment(t.created_at, t.resolved_at, t.resolution_target, now) for t in items]
        ),
        rated=len(ratings),
        rating_average=statistics.fmean(ratings) if ratings else None,
        rating_distribution={score: ratings.count(score) for score in range(1, 6)},
    )
