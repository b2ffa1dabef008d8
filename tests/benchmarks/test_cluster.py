"""The cluster scenario against three in-process nodes on the real Redis, with a tiny load.

It checks that the scenario works end to end, not how fast anything is.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import pytest

from benchmarks.__main__ import main
from benchmarks.cluster import cluster
from benchmarks.scenarios import Settings
from benchmarks.target import Target
from pusherd.protocol.app import App, Secret
from pusherd.testing import RunningServer, serve
from tests.integration.cluster.processes import delete_prefix, unique_prefix
from tests.services import require_redis

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

APP = App(id="bench-app", key="bench-key", secret=Secret("bench-secret"))
CREDENTIALS = ["--app-id", APP.id, "--key", APP.key, "--secret", str(APP.secret)]


async def test_the_cluster_scenario_reports_three_nodes_next_to_one() -> None:
    url = require_redis()
    prefix = unique_prefix()
    try:
        async with AsyncExitStack() as stack:
            single = await stack.enter_async_context(serve(apps=[APP]))
            nodes: list[RunningServer] = [
                await stack.enter_async_context(
                    serve(apps=[APP], redis_url=url, redis_prefix=prefix)
                )
                for _ in range(3)
            ]
            target = Target(single.host, single.port, APP.id, APP.key, str(APP.secret))
            settings = Settings(target=target, workers=3, timeout=10.0, label="pusherd")
            listed = ",".join(f"{node.host}:{node.port}" for node in nodes)
            # Scenarios block on their workers; the nodes keep running on this loop meanwhile.
            result = await anyio.to_thread.run_sync(
                lambda: cluster(settings, 12, listed, events=9, event_rate=60)
            )
            lines = await anyio.to_thread.run_sync(
                lambda: main(
                    [
                        "run",
                        "cluster",
                        "--target",
                        f"{single.host}:{single.port}",
                        "--nodes",
                        listed,
                        "--subscribers",
                        "6",
                        "--events",
                        "3",
                        "--rate",
                        "30",
                        "--workers",
                        "3",
                        *CREDENTIALS,
                    ]
                )
            )
    finally:
        await delete_prefix(url, prefix)
    metrics = result["metrics"]
    assert result["scenario"] == "cluster"
    assert result["params"]["nodes"] == listed.split(",")
    assert metrics["nodes"] == 3
    assert metrics["events_accepted"] == 9
    assert metrics["deliveries"] == metrics["deliveries_expected"] == 9 * 12
    assert metrics["single_deliveries"] == 9 * 12
    assert metrics["lost"] == 0 and metrics["single_lost"] == 0
    assert metrics["out_of_order"] is None
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p99_ms"]
    assert metrics["deliveries_per_s"] > 0 and metrics["single_deliveries_per_s"] > 0
    assert lines == 0
