"""One small interface over three WebSocket client libraries, so they can be measured side by side.

``picows`` (Cython, callback-based) is the default: it drove soketi hardest here
(see ``benchmarks/README.md``). ``websockets`` and ``aiohttp`` remain selectable
with ``--client`` to re-measure on another machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

LIBRARIES = ("picows", "websockets", "aiohttp")


class Receiver(Protocol):
    """What a connection reports to: text frames and the end of the connection."""

    def on_text(self, frame: str | bytes) -> None:
        """Handle one text frame; bytes or str depending on the library."""

    def on_closed(self) -> None:
        """Handle the connection's end, whoever closed it."""


class Connection(Protocol):
    """An open WebSocket connection."""

    def send(self, text: str) -> None:
        """Queue a text frame without waiting."""

    def close(self) -> None:
        """Start a close handshake and let the connection go."""


Connector = Callable[[str, Receiver], Awaitable[Connection]]


class _Tasks:
    """Keeps fire-and-forget send tasks referenced until they finish."""

    def __init__(self) -> None:
        self.pending: set[asyncio.Task[object]] = set()

    def spawn(self, coro: Awaitable[object]) -> None:
        task = asyncio.ensure_future(coro)
        self.pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self.pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failed send shows up as the connection closing


async def picows_connect(url: str, receiver: Receiver) -> Connection:
    """Open a connection with picows."""
    from picows import WSListener, WSMsgType, ws_connect

    class Listener(WSListener):  # type: ignore[misc]
        def on_ws_frame(self, transport, frame):  # type: ignore[no-untyped-def]
            if frame.msg_type == WSMsgType.TEXT:
                receiver.on_text(frame.get_payload_as_bytes())
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

        def on_ws_disconnected(self, transport):  # type: ignore[no-untyped-def]
            receiver.on_closed()

    class PicowsConnection:
        def __init__(self, transport) -> None:  # type: ignore[no-untyped-def]
            self.transport = transport

        def send(self, text: str) -> None:
            self.transport.send(WSMsgType.TEXT, text.encode())

        def close(self) -> None:
            if not self.transport.is_close_frame_sent:
                self.transport.send_close()
            self.transport.disconnect(graceful=True)

    transport, _ = await ws_connect(Listener, url, enable_auto_pong=True)
    return PicowsConnection(transport)


async def websockets_connect(url: str, receiver: Receiver) -> Connection:
    """Open a connection with websockets (asyncio implementation)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    ws = await connect(url, compression=None, ping_interval=None, max_queue=None)
    tasks = _Tasks()

    async def read() -> None:
        try:
            while True:
                receiver.on_text(await ws.recv(decode=False))
        except ConnectionClosed:
            pass
        finally:
            receiver.on_closed()

    class WebsocketsConnection:
        def send(self, text: str) -> None:
            tasks.spawn(ws.send(text))

        def close(self) -> None:
            tasks.spawn(ws.close())

    tasks.spawn(read())
    return WebsocketsConnection()


async def aiohttp_connect(url: str, receiver: Receiver) -> Connection:
    """Open a connection with aiohttp; each connection owns its session to keep them independent."""
    import aiohttp

    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(url, compress=0, autoping=True, max_msg_size=0)
    except BaseException:
        await session.close()
        raise
    tasks = _Tasks()

    async def read() -> None:
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    receiver.on_text(message.data)
        finally:
            await session.close()
            receiver.on_closed()

    class AiohttpConnection:
        def send(self, text: str) -> None:
            tasks.spawn(ws.send_str(text))

        def close(self) -> None:
            tasks.spawn(ws.close())

    tasks.spawn(read())
    return AiohttpConnection()


def connector(library: str) -> Connector:
    """Return the connect function of a library named in `LIBRARIES`.

    Raises:
        ValueError: an unknown library.
    """
    connectors: dict[str, Connector] = {
        "picows": picows_connect,
        "websockets": websockets_connect,
        "aiohttp": aiohttp_connect,
    }
    try:
        return connectors[library]
    except KeyError:
        raise ValueError(f"unknown WebSocket client {library!r}; choose from {LIBRARIES}") from None
