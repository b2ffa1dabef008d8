"""The outbox and dead-letter lists in Redis, so a restart loses no webhook.

Keys: ``{prefix}:webhooks:outbox`` (hash id -> delivery JSON) and
``{prefix}:webhooks:dead:{app_id}`` (hash id -> delivery JSON). A delivery is written
before its first attempt and removed after its 2xx, so delivery is at least once.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as redis

from pusherd.webhooks.schedule import Delivery


class RedisOutbox:
    """Pending deliveries and dead letters kept in Redis hashes.

    Args:
        url: a ``redis://`` or ``rediss://`` URL.
        prefix: the key prefix (``settings.redis_prefix``).
    """

    durable = True

    def __init__(self, url: str, prefix: str = "pusherd") -> None:
        self._redis = redis.Redis.from_url(url)
        self._outbox = f"{prefix}:webhooks:outbox"
        self._dead_prefix = f"{prefix}:webhooks:dead:"

    async def save(self, delivery: Delivery) -> None:
        await self._redis.hset(self._outbox, delivery.id, delivery.to_json())

    async def remove(self, delivery_id: str) -> None:
        await self._redis.hdel(self._outbox, delivery_id)

    async def pending(self) -> list[Delivery]:
        values = await self._redis.hvals(self._outbox)
        return sorted((Delivery.from_json(v) for v in values), key=lambda d: d.created)

    async def bury(self, delivery: Delivery) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._outbox, delivery.id)
            pipe.hset(self._dead_prefix + delivery.app_id, delivery.id, delivery.to_json())
            await pipe.execute()

    async def dead_letters(self, app_id: str) -> list[Delivery]:
        values = await self._redis.hvals(self._dead_prefix + app_id)
        return sorted((Delivery.from_json(v) for v in values), key=lambda d: d.created)

    async def exhume(self, app_id: str, ids: Iterable[str] | None) -> list[Delivery]:
        key = self._dead_prefix + app_id
        wanted = list(await self._redis.hkeys(key)) if ids is None else list(ids)
        found: list[Delivery] = []
        for delivery_id in wanted:
            # HDEL's count decides who replays a letter when two operators race.
            value = await self._redis.hget(key, delivery_id)
            if value is not None and await self._redis.hdel(key, delivery_id):
                found.append(Delivery.from_json(value))
        return sorted(found, key=lambda d: d.created)

    async def close(self) -> None:
        await self._redis.aclose()
