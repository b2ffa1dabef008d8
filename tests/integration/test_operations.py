"""Operations: /metrics that reconcile with reality, /health and /ready, and draining."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
import redis.asyncio as redis
from prometheus_client.parser import text_string_to_metric_families
from websockets.frames import Opcode

from pusherd.testing import RunningServer, serve
from tests.integration.helpers import api, subscriber
from tests.integration.raw import RawClient
from tests.integration.tcp_proxy import TcpProxy
from tests.services import REDIS_URL, require_redis

pytestmark = pytest.mark.anyio


async def scrape(server: RunningServer) -> dict[str, float]:
    """GET /metrics and parse it: ``{"name{label=value}": value}``, labels sorted."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.http_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_gauges_return_to_zero_after_many_clean_and_abrupt_closes(
    server: RunningServer,
) -> None:
    app_id = server.app.id
    clients = [await subscriber(server, "room", f"own-{n}") for n in range(30)]
    metrics = await scrape(server)
    assert metrics[f"pusherd_connections{{app_id={app_id}}}"] == 30
    assert metrics[f"pusherd_subscriptions{{app_id={app_id}}}"] == 60
    assert metrics[f"pusherd_channels{{app_id={app_id}}}"] == 31
    assert metrics["pusherd_connections_opened_total"] == 30
    for index, client in enumerate(clients):
        if index % 3 == 0:
            client.send_frame(Opcode.CLOSE, b"\x03\xe8")
            await client.recv_close()
            await client.close()
        elif index % 3 == 1:
            client.writer.transport.abort()  # abrupt: no close frame, TCP reset
        else:
            await client.close()  # TCP FIN without a close frame
    # Abrupt closes with a subscription still in flight.
    for n in range(10):
        client = await RawClient.connect(server.port, f"/app/{server.app.key}?protocol=7")
        await client.established()
        client.send_json({"event": "pusher:subscribe", "data": {"channel": f"late-{n}"}})
        client.writer.transport.abort()
    await until(lambda: server.node.hub.connection_count == 0, timeout=20)
    metrics = await scrape(server)
    assert metrics[f"pusherd_connections{{app_id={app_id}}}"] == 0
    assert metrics[f"pusherd_subscriptions{{app_id={app_id}}}"] == 0
    assert metrics[f"pusherd_channels{{app_id={app_id}}}"] == 0
    assert metrics["pusherd_connections_total_open"] == 0
    assert metrics["pusherd_connections_opened_total"] == 40


async def test_messages_bytes_and_api_calls_are_counted(server: RunningServer) -> None:
    listeners = [await subscriber(server, "news") for _ in range(3)]
    before = await scrape(server)
    response = await api(
        server,
        "POST",
        f"/apps/{server.app.id}/events",
        {"name": "e", "channel": "news", "data": "x"},
    )
    assert response.status_code == 200
    frames = [await c.recv() for c in listeners]
    bad = await api(
        server, "POST", "/apps/404/events", {"name": "e", "channel": "news", "data": "x"}
    )
    assert bad.status_code == 404
    listeners[0].send_json({"event": "pusher:ping", "data": {}})
    assert (await listeners[0].recv_json())["event"] == "pusher:pong"
    after = await scrape(server)
    frame_bytes = len(frames[0].payload) + 2
    assert after["pusherd_messages_sent_total"] - before["pusherd_messages_sent_total"] == 4
    assert after["pusherd_bytes_sent_total"] - before["pusherd_bytes_sent_total"] >= 3 * frame_bytes
    assert after["pusherd_messages_received_total"] - before["pusherd_messages_received_total"] == 1
    assert after["pusherd_bytes_received_total"] - before["pusherd_bytes_received_total"] == len(
        b'{"event": "pusher:ping", "data": {}}'
    )
    assert after["pusherd_http_api_requests_total{status=200}"] == 1
    assert after["pusherd_http_api_requests_total{status=404}"] == 1
    assert "pusherd_webhook_deliveries_total{result=success}" in after
    assert "pusherd_adapter_round_trip_seconds_count" in after
    for client in listeners:
        await client.close()


async def test_health_is_up_and_ready_turns_false_while_draining() -> None:
    async with serve(timeout_shutdown=1.0) as server, httpx.AsyncClient() as http:
        health = await http.get(f"{server.http_url}/health")
        ready = await http.get(f"{server.http_url}/ready")
        assert (health.status_code, health.json()) == (200, {"ok": True})
        assert (ready.status_code, ready.json()["ready"]) == (200, True)
        server.node.ready_checks.append(lambda: False)
        assert (await http.get(f"{server.http_url}/ready")).status_code == 503
        server.node.ready_checks.clear()
        # A keep-alive connection opened before the drain still gets answers.
        client = await subscriber(server)
        drain = asyncio.get_running_loop().create_task(server.node.drain())
        await asyncio.sleep(0)
        not_ready = await http.get(f"{server.http_url}/ready")
        assert (not_ready.status_code, not_ready.json()["ready"]) == (503, False)
        await drain
        await client.close()


async def test_draining_sends_4200_in_staggered_batches_and_finishes_within_the_grace() -> None:
    async with serve(timeout_shutdown=2.0) as server:
        clients = [await subscriber(server, "room") for _ in range(20)]
        started = time.monotonic()

        async def closed_at(client: RawClient) -> tuple[float, dict[str, object], int]:
            error = await client.recv_json(timeout=5)
            close = await client.recv_close(timeout=5)
            return time.monotonic() - started, error, close.close_code

        watch = asyncio.gather(*(closed_at(c) for c in clients))
        await server.node.drain()
        elapsed = time.monotonic() - started
        results = await watch
        assert elapsed < 2.0 + 1.5, (
            "the grace period bounds the drain (with room for a loaded machine)"
        )
        assert {code for _, _, code in results} == {4200}
        assert all(
            error
            == {
                "event": "pusher:error",
                "data": {"code": 4200, "message": "Server is shutting down; please reconnect"},
            }
            for _, error, _ in results
        )
        times = sorted(t for t, _, _ in results)
        assert times[-1] - times[0] >= 0.8, (
            "closes are spread over the grace period, not sent at once"
        )
        assert len({round(t, 1) for t in times}) >= 5
        with pytest.raises(OSError):
            await RawClient.connect(server.port, f"/app/{server.app.key}?protocol=7")
        for client in clients:
            await client.close()


@pytest.mark.redis
async def test_ready_is_false_while_the_redis_adapter_is_disconnected_and_back_after() -> None:
    require_redis()
    prefix = f"pusherd-test-{uuid.uuid4().hex[:8]}"
    async with TcpProxy(6379) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        options = {"redis_url": url, "redis_prefix": prefix, "redis_lease": 1.5}
        async with serve(**options) as server, httpx.AsyncClient() as http:

            async def ready() -> int:
                return (await http.get(f"{server.http_url}/ready")).status_code

            async def becomes(status: int) -> None:
                for _ in range(400):
                    if await ready() == status:
                        return
                    await asyncio.sleep(0.025)
                raise AssertionError(f"/ready never answered {status}")

            await becomes(200)
            client = await subscriber(server, "room")  # a count query to Redis
            samples = await scrape(server)
            assert samples["pusherd_adapter_round_trip_seconds_count"] >= 1
            proxy.cut()
            await becomes(503)
            assert (await http.get(f"{server.http_url}/health")).status_code == 200
            proxy.restore()
            await becomes(200)
            await client.close()
    cleaner = redis.Redis.from_url(REDIS_URL)
    keys = [k async for k in cleaner.scan_iter(f"{prefix}:*")]
    if keys:
        await cleaner.delete(*keys)
    await cleaner.aclose()
