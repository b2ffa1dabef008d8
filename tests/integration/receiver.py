"""A real HTTP server on a loopback port that records webhook requests and fails on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.json["events"])


class Receiver:
    """Answers each request with ``status(n)`` for the n-th request (from 0); 200 by default."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answered: list[int] = []
        self.status: Callable[[int], int] = lambda n: 200
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/hook"

    @property
    def delivered(self) -> list[Received]:
        """Requests answered with a 2xx."""
        return [r for r, s in zip(self.received, self.answered, strict=True) if 200 <= s < 300]

    async def wait(self, predicate: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        async def scan() -> None:
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(scan(), timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.status(len(self.received))
                self.received.append(Received(headers, body))
                self.answered.append(status)
                self._changed.set()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{{}}".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
