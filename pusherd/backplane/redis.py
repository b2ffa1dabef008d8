"""The Redis backplane: several nodes share envelopes, counts and presence through one Redis.

Design:

- Envelopes travel on one pub/sub channel, ``{prefix}:events``. Every node receives every
  envelope and keeps those with local subscribers; one channel keeps publishes in the order
  they were made (per node, hence per publisher and channel) and needs no subscribe round
  trip when a local channel becomes occupied. A node skips envelopes it published itself:
  it delivered them locally already.
- Counts and presence are kept in Redis hashes, changed only by Lua scripts
  (:mod:`pusherd.backplane.scripts`), so the cluster takes each decision (first or last
  connection of a user, occupied or vacated) exactly once. We keep state rather than
  ask the other nodes over pub/sub with a timeout: queries then cost one round trip,
  their answer does not depend on a slow or dead node, and a dead node's part is
  known exactly, so it can be taken out.
- Each node holds a lease (``{prefix}:nodes``, scored on Redis' clock), renewed every
  third of it; every node also reaps the nodes whose lease ran out, so a killed node's
  members are removed and ``member_removed`` broadcast within about 1⅓ leases.
- All commands of a node go through one ordered queue, sent in pipelines by one task:
  a node's changes are applied in the order it made them, and a query sees them.
- When Redis is unreachable the node serves its clients alone (callbacks get ``None``),
  logs one warning, reports itself not ready, retries, and on return restates its
  channels and members in one script (:data:`~pusherd.backplane.scripts.RESYNC`), which
  then tells it, in the envelope stream, the members its clients may have missed.
- Member broadcasts carry their channel's serial number of member changes, and a join's
  member list the serial it reflects: a node holds the changes racing a joining
  connection's list and sends it only the later ones, after the list.

Keys hold user ids, channel names and user_info, and each cache channel's last event
(so that a node linking later can send it); no other event data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from pusherd.backplane import scripts
from pusherd.backplane.base import Counted, Joined, MemberJoin, Node
from pusherd.backplane.codec import Envelope, EnvelopeError, Kind, decode, encode
from pusherd.protocol.names import WebhookName
from pusherd.protocol.registry import COUNT_THROTTLE_ABOVE, COUNT_THROTTLE_SECONDS
from server_api.hub import ChannelStats

logger = logging.getLogger("pusherd.backplane")

Callback = Callable[[Any], None]
_NAMES = (
    "COUNT",
    "JOIN_MEMBER",
    "LEAVE_MEMBER",
    "RENEW",
    "REAP",
    "WITHDRAW",
    "RESYNC",
    "CHANNELS",
    "CHANNEL",
    "USERS",
    "REMEMBER",
    "CACHED",
    "FLUSH_COUNTS",
)
_MEMBER_WEBHOOKS = frozenset({WebhookName.MEMBER_ADDED.value, WebhookName.MEMBER_REMOVED.value})


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBackplane:
    """A node's link to the others through Redis (see the module docstring)."""

    shared = True

    def __init__(
        self, url: str, *, prefix: str = "pusherd", lease: float = 3.0, timeout: float = 2.0
    ) -> None:
        """Prepare the link; nothing connects before :meth:`start`.

        Args:
            url: ``redis://[:password@]host[:port][/db]`` or ``rediss://`` for TLS.
            prefix: keeps deployments sharing one Redis apart.
            lease: seconds a node may stay silent before the others remove its part.
            timeout: seconds to wait for Redis before serving alone.
        """
        self.lease = lease
        self.timeout = timeout
        self.node_id = secrets.token_hex(8)
        # No retries inside redis-py: a resent pipeline would apply its counts twice.
        # A lost link is handled once, here: serve alone, reconnect, restate (RESYNC).
        # The name shows each node's two connections in CLIENT LIST.
        options: dict[str, Any] = {
            "socket_connect_timeout": timeout,
            "socket_keepalive": True,
            "retry": Retry(NoBackoff(), 0),
            "retry_on_error": [],
            "client_name": f"pusherd-{self.node_id}",
        }
        self.commands = aioredis.Redis.from_url(url, socket_timeout=timeout, **options)
        self.subscriber = aioredis.Redis.from_url(url, **options)
        # Pub/sub ignores database numbers: on another database than 0 the prefix names
        # it, so deployments apart by database alone do not hear each other's envelopes.
        db = int(self.commands.connection_pool.connection_kwargs.get("db") or 0)
        self.prefix = f"{prefix}:db{db}" if db else prefix
        self.events = f"{self.prefix}:events"
        self.node: Node | None = None
        #: called with the seconds each pipeline took to be answered (a metrics histogram)
        self.on_round_trip: Callable[[float], None] | None = None
        self._connected = False
        self._queue: list[tuple[str, tuple[Any, ...], Callback | None]] = []
        self._wakeup = asyncio.Event()
        self._sha: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._link: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected

    # Lifecycle

    async def start(self, node: Node) -> None:
        self.node = node
        loop = asyncio.get_running_loop()
        self._link = loop.create_task(self._keep_linked())
        # Give a reachable Redis the chance to link before the node reports ready.
        for _ in range(20):
            if self._connected:
                break
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._link is None:
            return
        link, self._link = self._link, None
        link.cancel()
        if self._connected:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

            def withdrawn(changes: Any) -> None:
                self._changed(changes)
                _settle(done, changes)

            self._call("WITHDRAW", (), withdrawn)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done, self.lease)
        self._connected = False
        for task in [*self._tasks, self._reader]:
            if task is not None:
                task.cancel()
        for task in [*self._tasks, self._reader, link]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                    await task
        await self.commands.aclose()
        await self.subscriber.aclose()

    async def _keep_linked(self) -> None:
        """Connect, then reconnect after every loss, until cancelled."""
        retry = min(1.0, self.lease / 3)
        while True:
            try:
                await self._link_up()
            except (RedisError, OSError) as exc:
                logger.debug("redis still unreachable: %s", exc)
                await asyncio.sleep(retry)
                continue
            lost = await self._until_lost()
            self._go_alone(lost)
            await asyncio.sleep(retry)

    async def _link_up(self) -> None:
        for name in _NAMES:
            self._sha[name] = await self.commands.script_load(getattr(scripts, name))
        pubsub = self.subscriber.pubsub()
        try:
            await pubsub.subscribe(self.events)
            # Subscribed before restating: the node then sees every broadcast it causes.
            async with asyncio.timeout(self.timeout):
                while True:
                    reply = await pubsub.get_message(timeout=self.timeout)
                    if reply is not None and reply["type"] == "subscribe":
                        break
        except BaseException:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            raise
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read(pubsub))
        # Restate this node first: every change queued from now on applies after it.
        self._queue[:0] = [
            ("RESYNC", (int(self.lease * 1000), self._snapshot()), self._changed),
            ("CACHED", (), self._cached),
        ]
        self._connected = True
        self._tasks = [loop.create_task(self._write()), loop.create_task(self._renew())]
        self._wakeup.set()
        logger.info("backplane linked to redis as node %s (prefix %s)", self.node_id, self.prefix)

    async def _until_lost(self) -> BaseException:
        waiting = [*self._tasks, self._reader]
        done, _ = await asyncio.wait(
            [t for t in waiting if t is not None], return_when=asyncio.FIRST_COMPLETED
        )
        finished = done.pop()
        return finished.exception() or ConnectionError("redis link ended")

    def _go_alone(self, error: BaseException) -> None:
        self._connected = False
        for task in [*self._tasks, self._reader]:
            if task is not None:
                task.cancel()
        self._tasks = []
        self._reader = None
        pending, self._queue = self._queue, []
        for _, _, callback in pending:
            if callback is not None:
                callback(None)
        logger.warning(
            "backplane down (%s): serving this node's clients alone until redis returns", error
        )

    # The ordered command queue

    def _call(self, script: str, args: tuple[Any, ...], callback: Callback | None) -> None:
        if not self._connected:
            if callback is not None:
                callback(None)
            return
        self._queue.append((script, args, callback))
        self._wakeup.set()

    async def _write(self) -> None:
        prefix, node = self.prefix, self.node_id
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                pipe = self.commands.pipeline(transaction=False)
                for script, args, _ in batch:
                    if script == "PUBLISH":
                        pipe.execute_command("PUBLISH", self.events, args[0])
                    else:
                        pipe.execute_command("EVALSHA", self._sha[script], 0, prefix, node, *args)
                sent_at = time.monotonic()
                try:
                    results = await pipe.execute(raise_on_error=False)
                except BaseException:
                    self._queue[:0] = batch
                    raise
                if self.on_round_trip is not None:
                    self.on_round_trip(time.monotonic() - sent_at)
                if any(isinstance(result, NoScriptError) for result in results):
                    # Redis lost its scripts (restarted, flushed): link again, restate.
                    self._queue[:0] = batch
                    raise ConnectionError("redis no longer has the backplane's scripts")
                for (script, _, callback), result in zip(batch, results, strict=True):
                    if isinstance(result, Exception):
                        logger.error("redis script %s failed: %s", script, result)
                        result = None
                    if callback is not None:
                        try:
                            callback(result)
                        except Exception:
                            logger.exception("handling the answer to %s failed", script)

    async def _renew(self) -> None:
        lease_ms = int(self.lease * 1000)
        while True:
            await asyncio.sleep(self.lease / 3)
            self._call("RENEW", (lease_ms,), self._renewed)
            self._call("REAP", (), self._changed)
            self._call("FLUSH_COUNTS", (), self._flushed)

    def _renewed(self, known: Any) -> None:
        if known == 0:
            # Others took this node for dead and withdrew its part: restate it.
            logger.warning("backplane lease of node %s had expired; restating it", self.node_id)
            self._call("RESYNC", (int(self.lease * 1000), self._snapshot()), self._changed)

    def _changed(self, changes: Any) -> None:
        if not changes or self.node is None:
            return
        by_app: dict[str, list[dict[str, Any]]] = {}
        for app_id, name, channel, user_id in changes:
            event = {"name": _text(name), "channel": _text(channel)}
            # Member events always name the user, whose id may be "" (PROTOCOL.md §8.1).
            if event["name"] in _MEMBER_WEBHOOKS:
                event["user_id"] = _text(user_id)
            by_app.setdefault(_text(app_id), []).append(event)
        for app_id, events in by_app.items():
            self.node.emit_cluster_webhooks(app_id, events)

    def _flushed(self, sent: Any) -> None:
        if not sent or self.node is None:
            return
        for app_id, channel, total in sent:
            event = {
                "name": WebhookName.SUBSCRIPTION_COUNT.value,
                "channel": _text(channel),
                "subscription_count": int(total),
            }
            self.node.emit_cluster_webhooks(_text(app_id), [event])

    def _cached(self, entries: Any) -> None:
        if not entries or self.node is None:
            return
        for app_id, channel, event, data, left in entries:
            self.node.remember_cached(
                _text(app_id), _text(channel), _text(event), _text(data), int(left) / 1000
            )

    def _snapshot(self) -> bytes:
        assert self.node is not None
        entries = [
            (
                entry.app_id,
                entry.channel,
                entry.subscribers,
                [(m.user_id, m.info, m.added, m.removed) for m in entry.members],
            )
            for entry in self.node.snapshot()
        ]
        packed: bytes = msgpack.packb(entries, use_bin_type=False)
        return packed

    # Receiving

    async def _read(self, pubsub: Any) -> None:
        node, me = self.node, self.node_id
        assert node is not None
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None or message["type"] != "message":
                    continue
                try:
                    envelope = decode(message["data"])
                except EnvelopeError as exc:
                    logger.warning("dropped a bad envelope: %s", exc)
                    continue
                if envelope.origin != me and (
                    envelope.kind is not Kind.SYNC or envelope.target == me
                ):
                    try:
                        node.receive_envelope(envelope)
                    except Exception:
                        logger.exception("delivering an envelope failed")
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    # Backplane

    def publish(self, envelope: Envelope) -> None:
        if not self._connected:
            return
        self._queue.append(("PUBLISH", (encode(envelope, self.node_id),), None))
        self._wakeup.set()

    def remember(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        self._call("REMEMBER", (app_id, channel, event, data, max(1, int(ttl * 1000))), None)

    def count(
        self,
        app_id: str,
        channel: str,
        delta: int,
        count_message: tuple[str, str] | None,
        on_done: Callable[[Counted | None], None],
    ) -> None:
        head, tail = count_message or ("", "")
        throttle = (COUNT_THROTTLE_ABOVE, int(COUNT_THROTTLE_SECONDS * 1000))
        self._call(
            "COUNT",
            (app_id, channel, delta, head, tail, *throttle),
            lambda result: on_done(
                None if result is None else Counted(int(result[0]), result[1] == 1)
            ),
        )

    def join_member(self, join: MemberJoin, on_done: Callable[[Joined | None], None]) -> None:
        def joined(result: Any) -> None:
            if result is None:
                on_done(None)
                return
            first, flat, serial = result
            members = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}
            on_done(Joined(first == 1, members, int(serial)))

        args = (join.app_id, join.channel, join.user_id, join.info, join.added, join.removed)
        self._call("JOIN_MEMBER", (*args, join.socket_id), joined)

    def leave_member(
        self, app_id: str, channel: str, user_id: str, on_done: Callable[[bool | None], None]
    ) -> None:
        self._call(
            "LEAVE_MEMBER",
            (app_id, channel, user_id),
            lambda result: on_done(None if result is None else result == 1),
        )

    async def _ask(self, script: str, *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._call(script, args, lambda result: _settle(future, result))
        return await future

    async def channels(self, app_id: str, prefix: str) -> dict[str, ChannelStats] | None:
        flat = await self._ask("CHANNELS", app_id, prefix)
        if flat is None:
            return None
        return {
            _text(flat[i]): ChannelStats(int(flat[i + 1]), int(flat[i + 2]))
            for i in range(0, len(flat), 3)
        }

    async def channel(self, app_id: str, name: str) -> ChannelStats | None:
        found = await self._ask("CHANNEL", app_id, name)
        return None if found is None else ChannelStats(int(found[0]), int(found[1]))

    async def presence_users(self, app_id: str, name: str) -> list[str] | None:
        users = await self._ask("USERS", app_id, name)
        return None if users is None else [_text(user) for user in users]
