"""A bare WebSocket client that does only what a test tells it: no automatic pongs or closes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from websockets.frames import Frame, Opcode


@dataclass
class Received:
    opcode: int
    payload: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.payload)

    @property
    def close_code(self) -> int:
        return int(struct.unpack("!H", self.payload[:2])[0])

    @property
    def close_reason(self) -> str:
        return self.payload[2:].decode()


class RawClient:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, response: bytes
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.response = response

    @classmethod
    async def connect(cls, port: int, path: str, host: str = "127.0.0.1") -> RawClient:
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return cls(reader, writer, response)

    @property
    def status(self) -> int:
        return int(self.response.split(b" ", 2)[1])

    def send_frame(
        self, opcode: Opcode, payload: bytes, *, fin: bool = True, mask: bool = True
    ) -> None:
        self.writer.write(Frame(opcode, payload, fin).serialize(mask=mask))

    def send_json(self, value: Any) -> None:
        self.send_frame(Opcode.TEXT, json.dumps(value).encode())

    def send_text(self, text: str) -> None:
        self.send_frame(Opcode.TEXT, text.encode())

    async def recv(self, timeout: float = 5.0) -> Received:
        async def read() -> Received:
            head = await self.reader.readexactly(2)
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            return Received(head[0] & 0x0F, await self.reader.readexactly(length))

        return await asyncio.wait_for(read(), timeout)

    async def recv_json(self, timeout: float = 5.0) -> Any:
        frame = await self.recv(timeout)
        assert frame.opcode == Opcode.TEXT, frame
        return frame.json

    async def recv_close(self, timeout: float = 5.0) -> Received:
        """Read frames until a close frame; returns it."""
        while True:
            frame = await self.recv(timeout)
            if frame.opcode == Opcode.CLOSE:
                return frame

    async def established(self) -> str:
        message = await self.recv_json()
        assert message["event"] == "pusher:connection_established", message
        return str(json.loads(message["data"])["socket_id"])

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """Wait for the server to drop the TCP connection."""
        try:
            data = await asyncio.wait_for(self.reader.read(), timeout)
        except (ConnectionError, TimeoutError):
            return False
        return data == b"" or self.reader.at_eof()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
