"""Sends webhooks from a background task: never blocks the event loop or the hub.

The hub calls :meth:`WebhookDispatcher.on_webhooks` synchronously; that only hands the
events to the pure :class:`~pusherd.webhooks.schedule.Scheduler`. One task releases due
deliveries and starts a bounded number of concurrent HTTP requests (httpx, pooled
keep-alive connections); failures are retried with exponential back-off until the retry
window ends, then moved to the app's dead-letter list. With a durable outbox a second
task renews this process's heartbeat and takes over the deliveries of processes that
are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import itertools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from pusherd.protocol.app import App
from pusherd.webhooks.outbox import MemoryOutbox, Outbox
from pusherd.webhooks.schedule import Delivery, Scheduler, resign, retry
from server_api.hub import AppStore

logger = logging.getLogger("pusherd.webhooks")


def _where(url: str) -> str:
    """The URL without its query: a receiver's token must not reach the logs."""
    return url.partition("?")[0]


#: seconds close() waits for a cancelled task to finish
_CANCEL_WAIT = 2.0

#: outcomes counted in :attr:`WebhookDispatcher.results` (and the metrics)
RESULTS = ("success", "retry", "dead_letter", "lost")


class WebhookDispatcher:
    """Delivers each app's webhooks, retries failures and keeps dead letters.

    Args:
        apps: finds an app by id to re-sign a replayed dead letter.
        outbox: where deliveries wait; :class:`MemoryOutbox` when omitted.
        delay: seconds ``channel_vacated``/``member_removed`` wait for a re-join.
        retry_window: seconds after creation a delivery is retried before it is dead.
        retry_initial: the first back-off in seconds; each retry doubles it.
        retry_max: the longest back-off in seconds.
        timeout: seconds one request may take (connect, send and answer).
        concurrency: requests in flight at once.
        clock: Unix time in seconds.
        transport: an httpx transport (tests); the default connects over the network.
    """

    def __init__(
        self,
        apps: AppStore,
        outbox: Outbox | None = None,
        *,
        delay: float = 3.0,
        retry_window: float = 300.0,
        retry_initial: float = 1.0,
        retry_max: float = 60.0,
        timeout: float = 5.0,
        concurrency: int = 32,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.apps = apps
        self.outbox: Outbox = outbox if outbox is not None else MemoryOutbox()
        self.scheduler = Scheduler(delay)
        self.retry_window = retry_window
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.timeout = timeout
        self.clock = clock
        self.results: Counter[str] = Counter({result: 0 for result in RESULTS})
        self._transport = transport
        self._slots = asyncio.Semaphore(concurrency)
        self._queue: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        #: deliveries the outbox was down for when they were added
        self._unsaved: set[str] = set()
        self._closing = False

    # The hub's side: synchronous and cheap.

    def on_webhooks(self, app: App, events: list[dict[str, Any]]) -> None:
        """Take events from the hub; they are sent later by the background task."""
        self.scheduler.add(app, events, self.clock())
        self._wake.set()

    # Lifecycle

    async def start(self) -> None:
        """Resume what the outbox holds (after a restart) and start sending."""
        self._client = httpx.AsyncClient(
            timeout=self.timeout,
            transport=self._transport,
            follow_redirects=False,
            headers={"User-Agent": "pusherd-webhooks", "Accept": "application/json"},
        )
        try:
            await self.outbox.heartbeat()
            await self._claim()
        except Exception:
            # Keep serving; the keeper retries, and new deliveries are held in memory.
            logger.warning("webhook outbox unavailable", exc_info=True)
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        if self.outbox.durable:
            self._keeper = loop.create_task(self._keep_alive())

    async def close(self, grace: float = 5.0) -> None:
        """Flush: send everything held or waiting once, for up to ``grace`` seconds.

        What still fails stays in a durable outbox for the next start; without one it
        is lost, and logged as such.
        """
        self._closing = True
        background = {task for task in (self._task, self._keeper) if task is not None}
        for task in background:
            task.cancel()
        if background:
            # Bounded: a Redis call that does not give way must not hold up a shutdown.
            await asyncio.wait(background, timeout=_CANCEL_WAIT)
        try:
            for delivery in self.scheduler.poll(self.clock(), everything=True):
                await self._add(delivery)
                self._push(delivery)
            while self._queue:
                self._start(heapq.heappop(self._queue)[2])
            if self._inflight:
                await asyncio.wait(set(self._inflight), timeout=grace)
        finally:
            for task in list(self._inflight):
                task.cancel()
            if self._inflight:
                await asyncio.wait(set(self._inflight), timeout=_CANCEL_WAIT)
            if self._client is not None:
                await self._client.aclose()
            await self.outbox.close()

    # Dead letters (the signed admin API)

    async def dead_letters(self, app_id: str) -> list[dict[str, Any]]:
        """The app's dead letters as an operator sees them."""
        return [delivery.summary() for delivery in await self.outbox.dead_letters(app_id)]

    async def replay(self, app_id: str, ids: Iterable[str] | None = None) -> list[str]:
        """Send dead letters again, each as a new request (new ``time_ms``, new signature).

        Returns:
            the ids of the new deliveries, one per dead letter replayed.
        """
        app = self.apps.by_id(app_id)
        if app is None:
            return []
        replayed = []
        for letter in await self.outbox.exhume(app_id, ids):
            delivery = resign(app, letter, self.clock())
            await self._add(delivery)
            self._push(delivery)
            replayed.append(delivery.id)
        if replayed:
            logger.info("replaying %d dead webhook deliveries of app %s", len(replayed), app_id)
        return replayed

    # The background tasks

    async def _claim(self) -> None:
        claimed = await self.outbox.claim()
        if claimed:
            logger.info("resuming %d pending webhook deliveries", len(claimed))
        now = self.clock()
        for delivery in claimed:
            # The back-off belonged to a process that is gone; try again now.
            self._push(dataclasses.replace(delivery, next_attempt=min(delivery.next_attempt, now)))

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.outbox.heartbeat_interval)
            try:
                await self.outbox.heartbeat()
                await self._claim()
            except Exception:
                logger.warning("webhook outbox unavailable", exc_info=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock()
            for delivery in self.scheduler.poll(now):
                await self._add(delivery)
                self._push(delivery)
            while self._queue and self._queue[0][0] <= now:
                self._start(heapq.heappop(self._queue)[2])
            deadlines = [d for d in (self.scheduler.next_deadline(),) if d is not None]
            if self._queue:
                deadlines.append(self._queue[0][0])
            wait = max(0.0, min(deadlines) - self.clock()) if deadlines else None
            # Not wait_for: on Python 3.11 it swallows a cancel that comes as the event is
            # set (webhooks pushed as the node stops), and close() then waits forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    def _push(self, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (delivery.next_attempt, next(self._order), delivery))
        self._wake.set()

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(self._attempt(delivery))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _attempt(self, delivery: Delivery) -> None:
        assert self._client is not None
        async with self._slots:
            try:
                response = await self._client.post(
                    delivery.url, content=delivery.body, headers=list(delivery.headers)
                )
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            else:
                if 200 <= response.status_code < 300:
                    self.results["success"] += 1
                    await self._forget(delivery)
                    return
                error = f"HTTP {response.status_code}"
        now = self.clock()
        backoff = min(self.retry_max, self.retry_initial * 2**delivery.attempts)
        failed = retry(delivery, now, error, backoff)
        if failed.next_attempt - delivery.created > self.retry_window:
            if not await self._bury(failed):
                return
            self.results["dead_letter"] += 1
            logger.warning(
                "webhook to %s failed %d times (%s): moved to the dead letters of app %s",
                _where(delivery.url),
                failed.attempts,
                error,
                delivery.app_id,
            )
            return
        if self._closing:
            if self.outbox.durable:
                await self._update(failed)
            else:
                self.results["lost"] += 1
                logger.warning(
                    "webhook to %s lost at shutdown (%s) for app %s",
                    _where(delivery.url),
                    error,
                    delivery.app_id,
                )
            return
        if not await self._update(failed):
            return
        self.results["retry"] += 1
        logger.info(
            "webhook to %s failed (%s); retry in %.1fs", _where(delivery.url), error, backoff
        )
        self._push(failed)

    # The outbox: a store that is down must not stop deliveries held in memory.

    async def _add(self, delivery: Delivery) -> None:
        try:
            await self.outbox.add(delivery)
        except Exception:
            self._unsaved.add(delivery.id)
            logger.warning("webhook outbox unavailable", exc_info=True)

    async def _update(self, delivery: Delivery) -> bool:
        """Record a retry; False when another process has taken the delivery over."""
        if delivery.id in self._unsaved:
            self._unsaved.discard(delivery.id)
            await self._add(delivery)  # marks it unsaved again if the outbox is still down
            return True
        return await self._if_mine(self.outbox.update, delivery)

    async def _bury(self, delivery: Delivery) -> bool:
        if delivery.id in self._unsaved:
            self._unsaved.discard(delivery.id)
            await self._add(delivery)
        return await self._if_mine(self.outbox.bury, delivery)

    async def _if_mine(
        self, change: Callable[[Delivery], Awaitable[bool]], delivery: Delivery
    ) -> bool:
        """Apply an owner-checked outbox change; False when another process owns it now.

        An outbox that cannot be reached counts as still ours: the delivery stays held here.
        """
        try:
            mine = await change(delivery)
        except Exception:
            logger.warning("webhook outbox unavailable", exc_info=True)
            return True
        if not mine:
            logger.info("webhook %s was taken over by another node", delivery.id)
        return mine

    async def _forget(self, delivery: Delivery) -> None:
        self._unsaved.discard(delivery.id)
        try:
            await self.outbox.remove(delivery.id)
        except Exception:
            logger.warning("webhook outbox unavailable", exc_info=True)
