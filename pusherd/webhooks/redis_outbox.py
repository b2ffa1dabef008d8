"""The outbox and dead-letter lists in Redis, so a restart loses no webhook.

Keys: ``{prefix}:webhooks:outbox`` (hash id -> delivery JSON with its ``owner``),
``{prefix}:webhooks:dead:{app_id}`` (hash id -> delivery JSON) and
``{prefix}:webhooks:owner:{owner}`` (a heartbeat that expires). A delivery is written
before its first attempt and removed after its 2xx, so delivery is at least once.

Each process owns the deliveries it writes and renews its heartbeat. Another process
(or the same one restarted) takes a delivery over only when its owner's heartbeat is
gone: deleted at a clean shutdown, expired after a crash. A process whose delivery was
taken over (its heartbeat lapsed while Redis was out of reach) finds out at its next
write and drops it, so nodes sharing one Redis do not keep sending the same webhook.
Every check-and-write is one Lua script, atomic in Redis.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

import redis.asyncio as redis

from pusherd.webhooks.schedule import Delivery

#: KEYS: outbox, the old owner's heartbeat. ARGV: id, the value read, the new value.
#: Takes a delivery over only if its owner is gone and nobody changed it since.
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return 1
end
return 0
"""

#: KEYS: outbox. ARGV: id, owner, new value. Writes only over this owner's own entry.
_UPDATE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current)['owner'] == ARGV[2] then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
    return 1
end
return 0
"""

#: KEYS: outbox, the app's dead letters. ARGV: id, owner, dead letter.
_BURY = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current)['owner'] == ARGV[2] then
    redis.call('HDEL', KEYS[1], ARGV[1])
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
    return 1
end
return 0
"""


class RedisOutbox:
    """Pending deliveries and dead letters kept in Redis hashes.

    Args:
        url: a ``redis://`` or ``rediss://`` URL.
        prefix: the key prefix (``settings.redis_prefix``).
        heartbeat_ttl: seconds this process's heartbeat lives unless renewed (it is
            renewed every third of that); after a crash, its deliveries wait this long
            before another process takes them over.
    """

    durable = True

    def __init__(self, url: str, prefix: str = "pusherd", *, heartbeat_ttl: float = 15.0) -> None:
        # Bounded waits: a Redis that stops answering delays webhooks, never forever.
        self._redis = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=2.0)
        self._outbox = f"{prefix}:webhooks:outbox"
        self._dead_prefix = f"{prefix}:webhooks:dead:"
        self._owner_prefix = f"{prefix}:webhooks:owner:"
        self.owner = secrets.token_hex(8)
        self.heartbeat_ttl = heartbeat_ttl
        self._claim = self._redis.register_script(_CLAIM)
        self._update = self._redis.register_script(_UPDATE)
        self._bury = self._redis.register_script(_BURY)

    @property
    def heartbeat_interval(self) -> float:
        return self.heartbeat_ttl / 3

    async def heartbeat(self) -> None:
        """Say this process is alive for another ``heartbeat_ttl`` seconds."""
        key = self._owner_prefix + self.owner
        await self._redis.set(key, b"1", px=max(1, int(self.heartbeat_ttl * 1000)))

    async def claim(self) -> list[Delivery]:
        entries = await self._redis.hgetall(self._outbox)
        owners = {key: json.loads(value).get("owner") for key, value in entries.items()}
        others = sorted({owner or "" for owner in owners.values()} - {self.owner})
        # A cheap first look, one EXISTS per owner; the script checks again atomically.
        async with self._redis.pipeline(transaction=False) as pipe:
            for owner in others:
                pipe.exists(self._owner_prefix + owner)
            alive = {owner for owner, n in zip(others, await pipe.execute(), strict=True) if n}
        claimed = []
        for delivery_id, value in entries.items():
            owner = owners[delivery_id]
            if owner == self.owner or (owner or "") in alive:
                continue
            keys = [self._outbox, f"{self._owner_prefix}{owner or ''}"]
            if await self._claim(keys=keys, args=[delivery_id, value, self._owned(value)]):
                claimed.append(Delivery.from_json(value))
        return sorted(claimed, key=lambda d: d.created)

    async def add(self, delivery: Delivery) -> None:
        await self._redis.hset(self._outbox, delivery.id, self._owned(delivery.to_json()))

    async def update(self, delivery: Delivery) -> bool:
        value = self._owned(delivery.to_json())
        args = [delivery.id, self.owner, value]
        return bool(await self._update(keys=[self._outbox], args=args))

    async def remove(self, delivery_id: str) -> None:
        await self._redis.hdel(self._outbox, delivery_id)

    async def bury(self, delivery: Delivery) -> bool:
        keys = [self._outbox, self._dead_prefix + delivery.app_id]
        args = [delivery.id, self.owner, delivery.to_json()]
        return bool(await self._bury(keys=keys, args=args))

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
        """Drop the heartbeat, so the next process takes over what is left at once."""
        try:
            await self._redis.delete(self._owner_prefix + self.owner)
        except redis.RedisError:
            pass  # unreachable: the heartbeat expires by itself
        finally:
            await self._redis.aclose()

    def _owned(self, value: str | bytes) -> str:
        return json.dumps({**json.loads(value), "owner": self.owner}, separators=(",", ":"))
