"""Wire-level behaviour seen by a bare WebSocket client: handshake, errors, liveness, limits."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.frames import Opcode

from pusherd.protocol.app import App, Secret
from pusherd.testing import TEST_APP, serve
from server_api.hub import Publication
from tests.integration.raw import RawClient

pytestmark = pytest.mark.anyio

DISABLED = App(id="2", key="disabled-key", secret=Secret("s2"), enabled=False)
TLS_ONLY = App(id="3", key="tls-key", secret=Secret("s3"), ssl_only=True)
QUOTA = App(id="4", key="quota-key", secret=Secret("s4"), limit_max_connections=1)


async def refused(port: int, path: str) -> tuple[dict[str, object], int, str]:
    client = await RawClient.connect(port, path)
    assert client.status == 101, "rejections upgrade first, then close"
    error = await client.recv_json()
    close = await client.recv_close()
    await client.close()
    return error, close.close_code, close.close_reason


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/app/unknown-key?protocol=7", 4001, "Application does not exist"),
        ("/app/disabled-key?protocol=7", 4003, "Application disabled"),
        (
            "/app/tls-key?protocol=7",
            4000,
            "Application only accepts SSL connections, reconnect using wss://",
        ),
        ("/app/test-key?protocol=3", 4007, "Unsupported protocol version"),
        ("/app/test-key?protocol=seven", 4007, "Unsupported protocol version"),
        ("/apps/test-key", 4005, "Path not found"),
        ("/app/test-key/extra", 4005, "Path not found"),
        ("/other", 4005, "Path not found"),
    ],
)
async def test_a_refused_handshake_sends_the_error_then_closes_with_its_code(
    path: str, code: int, message: str
) -> None:
    async with serve(apps=[TEST_APP, DISABLED, TLS_ONLY]) as server:
        error, close_code, reason = await refused(server.port, path)
    assert error == {"event": "pusher:error", "data": {"code": code, "message": message}}
    assert (close_code, reason) == (code, message)


async def test_a_missing_protocol_parameter_counts_as_protocol_7() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        socket_id = await client.established()
        await client.close()
    assert socket_id.count(".") == 1 and socket_id.replace(".", "").isdigit()


async def test_an_app_over_its_connection_quota_is_refused_with_4004() -> None:
    async with serve(apps=[QUOTA]) as server:
        first = await RawClient.connect(server.port, "/app/quota-key?protocol=7")
        await first.established()
        error, code, _ = await refused(server.port, "/app/quota-key?protocol=7")
        await first.close()
    assert code == 4004 and error["data"] == {
        "code": 4004,
        "message": "Application is over connection quota",
    }


async def test_a_server_over_capacity_refuses_with_4100() -> None:
    async with serve(limit_max_connections=1) as server:
        first = await RawClient.connect(server.port, "/app/test-key")
        await first.established()
        _, code, reason = await refused(server.port, "/app/test-key")
        await first.close()
    assert (code, reason) == (4100, "Over capacity")


async def test_the_connection_established_frame_carries_socket_id_and_activity_timeout() -> None:
    async with serve(timeout_activity=45) as server:
        client = await RawClient.connect(
            server.port, "/app/test-key?protocol=7&client=js&version=8.4.0&flash=false"
        )
        message = await client.recv_json()
        await client.close()
    data = json.loads(message["data"])
    assert message["event"] == "pusher:connection_established"
    assert data["activity_timeout"] == 45
    assert set(data) == {"socket_id", "activity_timeout"}


@pytest.mark.parametrize(
    "frame",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b'{"data": {}}',
        b'{"event": 5}',
        b'{"event": "pusher:subscribe", "data": "my-channel"}',
        b'{"event": "pusher:subscribe", "data": {"channel": 5}}',
        b'{"event": "pusher:unsubscribe"}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_malformed_input_gets_invalid_message_format_and_the_connection_stays(
    frame: bytes,
) -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_frame(Opcode.TEXT, frame)
        error = await client.recv_json()
        client.send_json({"event": "pusher:ping", "data": {}})
        pong = await client.recv_json()
        await client.close()
    assert error == {
        "event": "pusher:error",
        "data": {"code": None, "message": "Invalid message format"},
    }
    assert pong == {"event": "pusher:pong", "data": {}}


async def test_unknown_events_are_reported_by_name() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_json({"event": "pusher_internal:member_added", "data": {}})
        error = await client.recv_json()
        await client.close()
    assert error["data"] == {
        "code": None,
        "message": "Unsupported event received on socket: 'pusher_internal:member_added'",
    }


async def test_a_binary_frame_is_invalid_message_format() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_frame(Opcode.BINARY, b"\x00\x01")
        error = await client.recv_json()
        await client.close()
    assert error["data"]["message"] == "Invalid message format"


async def test_a_fragmented_subscribe_is_reassembled() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        text = json.dumps({"event": "pusher:subscribe", "data": {"channel": "parts"}}).encode()
        client.send_frame(Opcode.TEXT, text[:10], fin=False)
        client.send_frame(Opcode.CONT, text[10:20], fin=False)
        client.send_frame(Opcode.CONT, text[20:])
        succeeded = await client.recv_json()
        await client.close()
    assert succeeded == {
        "event": "pusher_internal:subscription_succeeded",
        "channel": "parts",
        "data": "{}",
    }


async def test_a_message_over_the_cap_closes_with_1009() -> None:
    async with serve(ws_max_message_bytes=1000) as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_text(
            json.dumps({"event": "client-big", "channel": "private-x", "data": "x" * 2000})
        )
        close = await client.recv_close()
        await client.close()
    assert close.close_code == 1009


async def test_invalid_utf8_closes_with_1007() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_frame(Opcode.TEXT, b'{"event":"\xff\xfe"}')
        close = await client.recv_close()
        await client.close()
    assert close.close_code == 1007


async def test_an_unmasked_client_frame_is_a_protocol_error() -> None:
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_frame(Opcode.TEXT, b'{"event":"pusher:ping"}', mask=False)
        close = await client.recv_close()
        await client.close()
    assert close.close_code == 1002


async def test_pusher_ping_with_or_without_data_gets_a_pong_and_websocket_pings_are_answered() -> (
    None
):
    async with serve() as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        client.send_json({"event": "pusher:ping"})
        first = await client.recv_json()
        client.send_json({"event": "pusher:ping", "data": {}})
        second = await client.recv_json()
        client.send_frame(Opcode.PING, b"hello")
        pong = await client.recv()
        await client.close()
    assert first == second == {"event": "pusher:pong", "data": {}}
    assert (pong.opcode, pong.payload) == (Opcode.PONG, b"hello")


async def test_a_silent_connection_is_pinged_both_ways_then_closed_with_4201() -> None:
    async with serve(timeout_activity=1, timeout_pong=1, timeout_sweep=0.1) as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        frames = [await client.recv(timeout=3) for _ in range(2)]
        error = await client.recv_json(timeout=3)
        close = await client.recv_close(timeout=3)
        await client.close()
    kinds = sorted((f.opcode, f.payload if f.opcode == Opcode.TEXT else b"") for f in frames)
    assert kinds == [(Opcode.TEXT, b'{"event":"pusher:ping","data":{}}'), (Opcode.PING, b"")]
    assert error == {
        "event": "pusher:error",
        "data": {"code": 4201, "message": "Pong reply not received"},
    }
    assert (close.close_code, close.close_reason) == (4201, "Pong reply not received")


async def test_a_client_that_answers_the_ping_is_kept() -> None:
    async with serve(timeout_activity=1, timeout_pong=1, timeout_sweep=0.1) as server:
        client = await RawClient.connect(server.port, "/app/test-key")
        await client.established()
        for _ in range(3):
            frame = await client.recv(timeout=3)
            if frame.opcode == Opcode.PING:
                client.send_frame(Opcode.PONG, frame.payload)
        client.send_json({"event": "pusher:ping"})
        while (
            frame := await client.recv(timeout=3)
        ).opcode != Opcode.TEXT or b"pong" not in frame.payload:
            if frame.opcode == Opcode.PING:
                client.send_frame(Opcode.PONG, frame.payload)
        await client.close()
    assert frame.json == {"event": "pusher:pong", "data": {}}


async def test_a_slow_consumer_is_closed_with_4100_and_the_others_keep_receiving() -> None:
    async with serve(ws_write_buffer_bytes=64 * 1024) as server:
        subscribers = server.node.hub.state(server.app).registry.subscribers
        clients = []
        for _ in range(2):
            client = await RawClient.connect(server.port, "/app/test-key")
            await client.established()
            client.send_json({"event": "pusher:subscribe", "data": {"channel": "firehose"}})
            await client.recv_json()
            clients.append(client)
        slow, fast = clients
        received = 0

        async def read_fast() -> None:
            nonlocal received
            while True:
                await fast.recv(timeout=10)
                received += 1

        reader = asyncio.get_running_loop().create_task(read_fast())
        payload = "x" * 8000
        published = 0
        # The slow client never reads: its kernel buffers fill, then its capped write buffer.
        while len(subscribers("firehose")) == 2 and published < 5000:
            server.node.hub.publish(server.app, [Publication(("firehose",), "blob", payload)])
            published += 1
            await asyncio.sleep(0)
        remaining = len(subscribers("firehose"))
        close = await slow.recv_close(timeout=10)
        await asyncio.sleep(0.2)
        reader.cancel()
        await slow.close()
        await fast.close()
    assert remaining == 1, "the slow consumer leaves the channel, the fast one stays"
    assert (close.close_code, close.close_reason) == (4100, "Write buffer full")
    assert received == published


async def test_plain_http_to_an_unknown_path_is_404_and_health_answers() -> None:
    async with serve() as server, httpx.AsyncClient(base_url=server.http_url) as http:
        missing = await http.get("/nowhere")
        health = await http.get("/health")
        ready = await http.get("/ready")
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    assert health.status_code == 200 and health.json() == {"ok": True}
    assert ready.status_code == 200 and ready.json()["ready"] is True


async def test_api_requests_reuse_one_keep_alive_connection() -> None:
    async with serve() as server, httpx.AsyncClient(base_url=server.http_url) as http:
        for _ in range(20):
            response = await http.get("/health")
            assert response.status_code == 200
        connections = len(server.node.server.connections)
    assert connections == 1


async def test_a_path_prefix_serves_both_websocket_and_api_behind_it() -> None:
    async with serve(path_prefix="/pusher") as server:
        client = await RawClient.connect(server.port, "/pusher/app/test-key?protocol=7")
        await client.established()
        _, code, _ = await refused(server.port, "/app/test-key?protocol=7")
        await client.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            health = await http.get("/pusher/health")
    assert code == 4005
    assert health.status_code == 200
