"""Assembles one pusherd node: apps, hub, HTTP API, webhooks, metrics and server, from settings."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from pusherd.apps import StaticAppStore
from pusherd.appstore.layered import LayeredAppStore
from pusherd.backplane.base import Backplane
from pusherd.backplane.local import LocalBackplane
from pusherd.backplane.redis import RedisBackplane
from pusherd.config import Settings
from pusherd.hub import Hub
from pusherd.metrics import Metrics
from pusherd.server import Server
from pusherd.webhooks import WebhookDispatcher
from pusherd.webhooks.outbox import MemoryOutbox, Outbox
from server_api.http import ApiRequest, ApiResponse
from server_api.router import Api

logger = logging.getLogger("pusherd.hub")


class Node:
    """Everything one pusherd process runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps = _app_store(settings)
        self.webhooks = WebhookDispatcher(
            self.apps,
            _outbox(settings),
            delay=settings.webhook_delay,
            retry_window=settings.webhook_retry_window,
            retry_initial=settings.webhook_retry_initial,
            timeout=settings.webhook_timeout,
        )
        self.backplane = backplane(settings)
        self.hub = Hub(self.apps, on_webhooks=self.webhooks.on_webhooks, backplane=self.backplane)
        self.metrics = Metrics(self.hub, self.webhooks)
        if isinstance(self.backplane, RedisBackplane):
            self.backplane.on_round_trip = self.metrics.adapter_latency.observe
        self.api = Api(
            self.hub,
            self.apps,
            prefix=settings.path_prefix,
            max_body_bytes=settings.limit_http_body_bytes,
            webhooks=self.webhooks,
        )
        #: more conditions for /ready (e.g. the backplane is connected); all must hold
        self.ready_checks: list[Callable[[], bool]] = []
        self.draining = False
        prefix = settings.path_prefix
        self.server = Server(
            settings,
            self.hub,
            self.metrics.count_api(self.api),
            routes={
                f"{prefix}/health": self.health,
                f"{prefix}/ready": self.ready,
                f"{prefix}/metrics": self.metrics.route,
            },
        )

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        if isinstance(self.apps, LayeredAppStore):
            await self.apps.start()
        await self.webhooks.start()
        await self.backplane.start(self.hub)
        await self.server.start()

    async def stop(self) -> None:
        """Close every connection now, then flush webhooks briefly."""
        self.draining = True
        await self.server.stop()
        await self.backplane.stop()
        await self.webhooks.close(grace=min(1.0, self.settings.webhook_timeout))
        await self._close_apps()

    async def drain(self) -> None:
        """Shut down gracefully within ``timeout_shutdown`` seconds.

        /ready turns false first; then the server stops accepting and sends 4200 to its
        connections in staggered batches, and the webhooks still held are sent.
        """
        self.draining = True
        grace = self.settings.timeout_shutdown
        deadline = time.monotonic() + grace
        # Leave a quarter of the grace period for the webhooks the closes cause.
        await self.server.drain(grace * 0.75)
        await self.backplane.stop()
        remaining = max(0.1, deadline - time.monotonic())
        try:
            await asyncio.wait_for(self.webhooks.close(grace=remaining * 0.9), remaining)
        except TimeoutError:
            logger.warning("webhooks not flushed within the grace period")
        await self._close_apps()

    async def _close_apps(self) -> None:
        if isinstance(self.apps, LayeredAppStore):
            await self.apps.close()

    def health(self, request: ApiRequest) -> ApiResponse:
        """The process is up."""
        return ApiResponse(200, b'{"ok":true}')

    def ready(self, request: ApiRequest) -> ApiResponse:
        """The node accepts traffic: not draining, linked to its cluster, every check passing."""
        ready = (
            not self.draining
            and not self.server.draining
            and self.backplane.connected
            and all(check() for check in self.ready_checks)
        )
        body = json.dumps({"ready": ready, "connections": self.hub.connection_count}).encode()
        return ApiResponse(200 if ready else 503, body)


def _app_store(settings: Settings) -> StaticAppStore | LayeredAppStore:
    if not settings.app_store_url:
        return StaticAppStore(settings.apps)
    from pusherd.appstore.sql import SqlApps

    # With a database of apps, the development app is not served.
    static = StaticAppStore(() if settings.uses_default_app else settings.apps)
    return LayeredAppStore(static, SqlApps(settings.app_store_url), settings.app_store_refresh)


def _outbox(settings: Settings) -> Outbox:
    if settings.redis_url:
        from pusherd.webhooks.redis_outbox import RedisOutbox

        return RedisOutbox(settings.redis_url, settings.redis_prefix)
    return MemoryOutbox()


def backplane(settings: Settings) -> Backplane:
    """The Redis backplane when a URL is set, else a cluster of one."""
    if settings.redis_url:
        return RedisBackplane(
            settings.redis_url,
            prefix=settings.redis_prefix,
            lease=settings.redis_lease,
            timeout=settings.redis_timeout,
        )
    return LocalBackplane()
