"""Running a real pusherd node in-process, on an ephemeral loopback port, for tests and tools."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from pusherd.config import Settings
from pusherd.node import Node
from pusherd.protocol.app import App, Secret

TEST_APP = App(
    id="100001",
    key="test-key",
    secret=Secret("test-secret"),
    enable_client_events=True,
    enable_user_authentication=True,
)


@dataclasses.dataclass
class RunningServer:
    """A started node and where to reach it."""

    node: Node
    host: str
    port: int

    @property
    def apps(self) -> tuple[App, ...]:
        return self.node.settings.apps

    @property
    def app(self) -> App:
        return self.apps[0]

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}{self.node.settings.path_prefix}/app/{self.app.key}?protocol=7"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.node.settings.path_prefix}"


@asynccontextmanager
async def serve(apps: Iterable[App] = (TEST_APP,), **settings: Any) -> AsyncIterator[RunningServer]:
    """Start a node on 127.0.0.1 and an ephemeral port; stop it on exit.

    Args:
        apps: the apps to serve.
        **settings: any :class:`~pusherd.config.Settings` field (``timeout_activity=1``...).
    """
    options = {"host": "127.0.0.1", "port": 0, **settings}
    node = Node(Settings(apps=tuple(apps), **options))
    await node.start()
    try:
        yield RunningServer(node, options["host"], node.port)
    finally:
        await node.stop()
