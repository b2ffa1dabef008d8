"""Delivering the outbox to pusherd in order, retrying while pusherd is down.

Events go out strictly in outbox order: on a failure the publisher retries the same event
(with a capped exponential backoff) before any later one, so each channel's ``seq`` reaches
pusherd ascending. An event is marked published right after pusherd accepts it; a crash
between the two can resend that one event, which clients drop by its ``seq``. Run one
publisher per database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.helpdesk.db import utcnow
from examples.helpdesk.models import OutboxEvent
from examples.helpdesk.pusher_api import PusherApi, PusherApiError

logger = logging.getLogger("helpdesk.publisher")

BATCH = 100


class Publisher:
    """Moves outbox rows to pusherd; :meth:`wake` after a commit sends them at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        api: PusherApi,
        *,
        retry_max: float = 5.0,
        poll_interval: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._api = api
        self._retry_max = retry_max
        self._poll_interval = poll_interval
        self._clock = clock
        self._wakeup = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        """Tell the publisher new events were committed."""
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish every pending event, oldest first; return how many went out.

        Raises:
            PusherApiError: pusherd failed on an event; it and all later ones stay pending.
        """
        sent = 0
        while True:
            async with self._sessions() as session:
                rows = (
                    await session.scalars(
                        select(OutboxEvent)
                        .where(OutboxEvent.published_at.is_(None))
                        .order_by(OutboxEvent.id)
                        .limit(BATCH)
                    )
                ).all()
            if not rows:
                return sent
            for row in rows:
                try:
                    await self._api.trigger(row.channel, row.name, row.data)
                except PusherApiError as error:
                    await self._mark(row.id, error=str(error))
                    raise
                await self._mark(row.id)
                sent += 1
                self.published += 1

    async def _mark(self, row_id: int, *, error: str | None = None) -> None:
        values: dict[str, object] = {"attempts": OutboxEvent.attempts + 1}
        if error is None:
            values.update(published_at=self._clock(), last_error=None)
        else:
            values["last_error"] = error[:500]
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.id == row_id).values(**values)
            )

    async def run(self) -> None:
        """Publish forever: on wake-ups, every ``poll_interval``, and with backoff on failure."""
        delay = 0.1
        while True:
            self._wakeup.clear()
            try:
                await self.publish_pending()
                delay = 0.1
            except PusherApiError as error:
                logger.warning("publishing paused, retrying in %.1fs: %s", delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                continue
            except Exception:
                logger.exception("publisher failed; retrying")
                await asyncio.sleep(self._retry_max)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
