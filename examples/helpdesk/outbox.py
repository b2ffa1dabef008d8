"""Writing events into the outbox in the same transaction as the change they announce.

Each channel is a stream with its own gapless sequence: the event's ``seq`` is one more
than the channel's previous event, given out by an upsert on ``streams`` that holds the
row's lock until commit, so concurrent writers on one channel queue up rather than collide.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from examples.helpdesk.models import OutboxEvent, Stream

#: Laravel broadcasts an event under its class name; Echo's ``.listen('MessageSent')``
#: expands to ``App\Events\MessageSent`` (laravel-echo's EventFormatter).
EVENT_NAMESPACE = "App\\Events\\"


def event_name(short: str) -> str:
    """Return the namespaced name Laravel would broadcast ``short`` under."""
    return EVENT_NAMESPACE + short


@dataclass(frozen=True)
class Recorded:
    """An event as stored, in the shape the catch-up API serves it."""

    id: int
    event_id: str
    channel: str
    seq: int
    name: str
    data: dict[str, Any]

    @classmethod
    def of(cls, row: OutboxEvent) -> Recorded:
        """Build from an outbox row."""
        return cls(row.id, row.event_id, row.channel, row.seq, row.name, json.loads(row.data))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape: ``{"channel", "event", "seq", "event_id", "data"}``."""
        return {
            "channel": self.channel,
            "event": self.name,
            "seq": self.seq,
            "event_id": self.event_id,
            "data": self.data,
        }


async def next_seq(session: AsyncSession, channel: str) -> int:
    """Reserve and return the next sequence number of ``channel``."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Stream)
        .values(channel=channel, last_seq=1)
        .on_conflict_do_update(
            index_elements=[Stream.channel], set_={"last_seq": Stream.last_seq + 1}
        )
        .returning(Stream.last_seq)
    )
    return int((await session.execute(statement)).scalar_one())


async def record(
    session: AsyncSession, channel: str, short_name: str, payload: dict[str, Any], now: datetime
) -> OutboxEvent:
    """Add an event to the outbox; it is published only if the transaction commits.

    Args:
        session: the session holding the change the event announces.
        channel: the full channel name (``private-conversation.7``).
        short_name: the event's class name (``MessageSent``), namespaced here.
        payload: the event's fields; ``event_id`` and ``seq`` are added.
        now: the time of the change.

    Returns:
        The pending outbox row.
    """
    seq = await next_seq(session, channel)
    event_id = str(uuid.uuid4())
    data = {**payload, "event_id": event_id, "seq": seq}
    row = OutboxEvent(
        event_id=event_id,
        channel=channel,
        seq=seq,
        name=event_name(short_name),
        data=json.dumps(data, separators=(",", ":"), default=_json_default),
        created_at=now,
        attempts=0,
    )
    session.add(row)
    return row


async def events_since(
    session: AsyncSession, channel: str, since: int, limit: int = 500
) -> list[Recorded]:
    """Return the channel's events with ``seq > since``, oldest first, at most ``limit``."""
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.channel == channel, OutboxEvent.seq > since)
        .order_by(OutboxEvent.seq)
        .limit(limit)
    )
    return [Recorded.of(row) for row in rows]


async def last_seq(session: AsyncSession, channel: str) -> int:
    """The sequence number of the channel's newest event (0 before any)."""
    value = await session.scalar(select(Stream.last_seq).where(Stream.channel == channel))
    return int(value or 0)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def iso(value: datetime | None) -> str | None:
    """Format a naive-UTC time as ISO 8601 with a ``Z``."""
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"
