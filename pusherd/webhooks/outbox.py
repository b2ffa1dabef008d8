"""Where deliveries wait until they succeed, and the dead-letter lists: the in-memory store.

Without Redis a crash loses what is waiting; a clean shutdown flushes what it can first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pusherd.webhooks.schedule import Delivery


class Outbox(Protocol):
    """Pending deliveries and each app's dead letters.

    A durable outbox may be shared by several processes: each owns the deliveries it
    adds, and takes over another's with :meth:`claim` only once that one is gone.
    """

    durable: bool

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between :meth:`heartbeat` and :meth:`claim` calls."""

    async def heartbeat(self) -> None:
        """Tell other processes this one is alive."""

    async def claim(self) -> list[Delivery]:
        """Take over pending deliveries whose process is gone (this one's earlier life too)."""

    async def add(self, delivery: Delivery) -> None:
        """Keep a new delivery, owned by this process."""

    async def update(self, delivery: Delivery) -> bool:
        """Keep a retried delivery's new state.

        Returns:
            False when it is no longer this process's (delivered or taken over by
            another); the caller then drops it.
        """

    async def remove(self, delivery_id: str) -> None:
        """Forget a delivered request."""

    async def bury(self, delivery: Delivery) -> bool:
        """Move a delivery that ran out of retries to its app's dead-letter list.

        Returns:
            False, and nothing moved, when it is no longer this process's.
        """

    async def dead_letters(self, app_id: str) -> list[Delivery]:
        """The app's dead letters, oldest first."""

    async def exhume(self, app_id: str, ids: Iterable[str] | None) -> list[Delivery]:
        """Remove and return dead letters (all of the app's when ``ids`` is None)."""

    async def close(self) -> None:
        """Release connections."""


class MemoryOutbox:
    """Dicts in this process; insertion order is delivery order."""

    durable = False
    heartbeat_interval = 3600.0

    def __init__(self) -> None:
        self._pending: dict[str, Delivery] = {}
        self._dead: dict[str, dict[str, Delivery]] = {}

    async def heartbeat(self) -> None:
        pass

    async def claim(self) -> list[Delivery]:
        # Only this process ever sees this outbox, and it already holds every delivery.
        return []

    async def add(self, delivery: Delivery) -> None:
        self._pending[delivery.id] = delivery

    async def update(self, delivery: Delivery) -> bool:
        self._pending[delivery.id] = delivery
        return True

    async def remove(self, delivery_id: str) -> None:
        self._pending.pop(delivery_id, None)

    async def bury(self, delivery: Delivery) -> bool:
        self._pending.pop(delivery.id, None)
        self._dead.setdefault(delivery.app_id, {})[delivery.id] = delivery
        return True

    async def dead_letters(self, app_id: str) -> list[Delivery]:
        return sorted(self._dead.get(app_id, {}).values(), key=lambda d: d.created)

    async def exhume(self, app_id: str, ids: Iterable[str] | None) -> list[Delivery]:
        dead = self._dead.get(app_id, {})
        wanted = list(dead) if ids is None else [i for i in ids if i in dead]
        return sorted((dead.pop(i) for i in wanted), key=lambda d: d.created)

    async def close(self) -> None:
        pass
