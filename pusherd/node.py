"""Assembles one pusherd node: apps, hub, HTTP API and server, from settings."""

from __future__ import annotations

import json
import logging

from pusherd.apps import StaticAppStore
from pusherd.backplane.base import Backplane
from pusherd.backplane.local import LocalBackplane
from pusherd.backplane.redis import RedisBackplane
from pusherd.config import Settings
from pusherd.hub import Hub
from pusherd.server import Server
from server_api.http import ApiRequest, ApiResponse
from server_api.router import Api

logger = logging.getLogger("pusherd.hub")


class Node:
    """Everything one pusherd process runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps = StaticAppStore(settings.apps)
        self.backplane = backplane(settings)
        self.hub = Hub(self.apps, backplane=self.backplane)
        self.api = Api(
            self.hub,
            self.apps,
            prefix=settings.path_prefix,
            max_body_bytes=settings.limit_http_body_bytes,
        )
        prefix = settings.path_prefix
        self.server = Server(
            settings,
            self.hub,
            self.api,
            routes={f"{prefix}/health": self.health, f"{prefix}/ready": self.ready},
        )

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.backplane.start(self.hub)
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        await self.backplane.stop()

    async def drain(self) -> None:
        await self.server.drain(self.settings.timeout_shutdown)
        await self.backplane.stop()

    def health(self, request: ApiRequest) -> ApiResponse:
        """The process is up."""
        return ApiResponse(200, b'{"ok":true}')

    def ready(self, request: ApiRequest) -> ApiResponse:
        """The node accepts traffic: not draining, and linked to its cluster."""
        ready = not self.server.draining and self.backplane.connected
        body = json.dumps({"ready": ready, "connections": self.hub.connection_count}).encode()
        return ApiResponse(200 if ready else 503, body)


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
