"""Where deliveries wait until they succeed, and the dead-letter lists: the in-memory store.

Without Redis a crash loses what is waiting; a clean shutdown flushes what it can first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pusherd.webhooks.schedule import Delivery


class Outbox(Protocol):
    """Pending deliveries and each app's dead letters."""

    durable: bool

    async def save(self, delivery: Delivery) -> None:
        """Add or update a pending delivery."""

    async def remove(self, delivery_id: str) -> None:
        """Forget a delivered request."""

    async def pending(self) -> list[Delivery]:
        """Every pending delivery (to resume after a restart)."""

    async def bury(self, delivery: Delivery) -> None:
        """Move a delivery that ran out of retries to its app's dead-letter list."""

    async def dead_letters(self, app_id: str) -> list[Delivery]:
        """An app's dead letters, oldest first."""

    async def exhume(self, app_id: str, ids: Iterable[str] | None) -> list[Delivery]:
        """Remove and return dead letters (all of the app's when ``ids`` is None)."""

    async def close(self) -> None:
        """Release connections."""


class MemoryOutbox:
    """Dicts in this process; insertion order is delivery order."""

    durable = False

    def __init__(self) -> None:
        self._pending: dict[str, Delivery] = {}
        self._dead: dict[str, dict[str, Delivery]] = {}

    async def save(self, delivery: Delivery) -> None:
        self._pending[delivery.id] = delivery

    async def remove(self, delivery_id: str) -> None:
        self._pending.pop(delivery_id, None)

    async def pending(self) -> list[Delivery]:
        return list(self._pending.values())

    async def bury(self, delivery: Delivery) -> None:
        self._pending.pop(delivery.id, None)
        self._dead.setdefault(delivery.app_id, {})[delivery.id] = delivery

    async def dead_letters(self, app_id: str) -> list[Delivery]:
        return sorted(self._dead.get(app_id, {}).values(), key=lambda d: d.created)

    async def exhume(self, app_id: str, ids: Iterable[str] | None) -> list[Delivery]:
        dead = self._dead.get(app_id, {})
        wanted = list(dead) if ids is None else [i for i in ids if i in dead]
        return sorted((dead.pop(i) for i in wanted), key=lambda d: d.created)

    async def close(self) -> None:
        pass
