from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import pytest

from tests.integration.cluster.processes import NodeProcess, delete_prefix, unique_prefix
from tests.integration.cluster.steps import LEASE, StartNodes
from tests.integration.js import JsClients
from tests.services import require_redis


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    yield require_redis()


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    name = unique_prefix()
    yield name
    await delete_prefix(redis_url, name)


@pytest.fixture
async def nodes(redis_url: str, prefix: str) -> AsyncIterator[StartNodes]:
    """Start nodes on the test's prefix (or another), stopped at the end of the test."""
    started: list[NodeProcess] = []

    async def start(
        count: int,
        *,
        url: str | None = None,
        prefix_: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> list[NodeProcess]:
        for _ in range(count):
            node = await NodeProcess.start(
                url or redis_url, prefix_ or prefix, lease=LEASE, env=env
            )
            started.append(node)
        return started[-count:]

    yield start
    for node in started:
        await node.stop()
    # An ERROR line is a bug (STYLE.md); a traceback at any level is one too.
    for node in started:
        bad = [line for line in node.log if b" ERROR " in line or b"Traceback" in line]
        assert not bad, b"".join(node.log).decode()


@pytest.fixture
async def js() -> AsyncIterator[JsClients]:
    clients = await JsClients.start()
    try:
        yield clients
    finally:
        await clients.close()
