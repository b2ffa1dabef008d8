from __future__ import annotations

from collections.abc import AsyncIterator

import pusher
import pytest

from pusherd.testing import RunningServer, serve
from tests.integration.js import JsClients, python_sdk


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    async with serve() as running:
        yield running


@pytest.fixture
async def js() -> AsyncIterator[JsClients]:
    clients = await JsClients.start()
    try:
        yield clients
    finally:
        await clients.close()


@pytest.fixture
def sdk(server: RunningServer) -> pusher.Pusher:
    """The official pusher PyPI SDK pointed at the server."""
    return python_sdk(server.port, server.app)


def npm_app(server: RunningServer) -> dict[str, object]:
    app = server.app
    return {
        "appId": app.id,
        "key": app.key,
        "secret": str(app.secret),
        "host": "127.0.0.1",
        "port": str(server.port),
    }
