"""Assembles one pusherd node: apps, hub, HTTP API and server, from settings."""

from __future__ import annotations

import json
import logging

from server_api.router import Api

from pusherd.apps import StaticAppStore
from pusherd.config import Settings
from pusherd.hub import Hub
from pusherd.server import Server
from server_api.http import ApiRequest, ApiResponse

logger = logging.getLogger("pusherd.hub")


class Node:
    """Everything one pusherd process runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.apps = StaticAppStore(settings.apps)
        self.hub = Hub(self.apps)
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
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    async def drain(self) -> None:
        await self.server.drain(self.settings.timeout_shutdown)

    def health(self, request: ApiRequest) -> ApiResponse:
        """The process is up."""
        return ApiResponse(200, b'{"ok":true}')

    def ready(self, request: ApiRequest) -> ApiResponse:
        """The node accepts traffic: not draining."""
        ready = not self.server.draining
        body = json.dumps({"ready": ready, "connections": self.hub.connection_count}).encode()
        return ApiResponse(200 if ready else 503, body)
