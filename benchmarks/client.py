"""A Pusher client connection for load generation: connect, subscribe, answer pings, time events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from benchmarks import wire
from benchmarks.stats import SequenceTracker
from benchmarks.target import Target
from benchmarks.wsclient import Connection, Connector
from client_auth.channels import authorize_channel

#: Called with the socket, the event number and its send time for every timed frame.
OnTimed = Callable[["PusherSocket", int, int], None]


class SubscribeError(ConnectionError):
    """The server refused the connection or the subscription, or closed the socket."""


class PusherSocket:
    """One connection's frames: timed events go to ``on_timed``, the rest to the protocol."""

    __slots__ = (
        "channel",
        "closed",
        "connection",
        "errors",
        "established",
        "first_error",
        "on_timed",
        "socket_id",
        "subscribed",
        "tracker",
    )

    def __init__(self, on_timed: OnTimed) -> None:
        loop = asyncio.get_running_loop()
        self.on_timed = on_timed
        self.connection: Connection | None = None
        self.socket_id = ""
        self.channel = ""
        self.established: asyncio.Future[str] = loop.create_future()
        self.subscribed: asyncio.Future[None] = loop.create_future()
        self.tracker = SequenceTracker()
        self.closed = False
        self.errors = 0
        self.first_error = ""

    def on_text(self, frame: str | bytes) -> None:
        """Dispatch one frame: the timed fast path first, then protocol frames."""
        timing = wire.parse_timing(frame)
        if timing is not None:
            self.on_timed(self, timing[0], timing[1])
            return
        try:
            event, channel, data = wire.parse_frame(frame)
        except ValueError:
            return
        if event == "pusher:connection_established" and isinstance(data, dict):
            self.socket_id = str(data.get("socket_id", ""))
            _resolve(self.established, self.socket_id)
        elif event == "pusher_internal:subscription_succeeded" and channel == self.channel:
            _resolve(self.subscribed, None)
        elif event == "pusher:ping" and self.connection is not None:
            self.connection.send(wire.pong())
        elif event in ("pusher:error", "pusher:subscription_error"):
            # Counted as well: a refused client event is an error after subscription.
            self.errors += 1
            self.first_error = self.first_error or f"{event}: {str(data)[:200]}"
            error = SubscribeError(self.first_error)
            _reject(self.established, error)
            _reject(self.subscribed, error)

    def on_closed(self) -> None:
        """Mark the socket closed and fail whatever still waits on it."""
        self.closed = True
        error = SubscribeError("connection closed")
        _reject(self.established, error)
        _reject(self.subscribed, error)

    def send(self, text: str) -> None:
        """Send a frame, unless the socket is closed."""
        if self.connection is not None and not self.closed:
            self.connection.send(text)

    def close(self) -> None:
        """Close the connection."""
        if self.connection is not None and not self.closed:
            self.connection.close()


async def open_socket(
    connect: Connector, target: Target, channel: str, on_timed: OnTimed, limit: float
) -> PusherSocket:
    """Connect to ``target`` and subscribe to ``channel``; private channels are authorized here.

    Raises:
        SubscribeError: refused, closed, or not subscribed within ``limit`` seconds.
        OSError: the TCP connection failed.
    """
    sock = PusherSocket(on_timed)
    sock.channel = channel
    try:
        async with asyncio.timeout(limit):
            sock.connection = await connect(target.ws_url, sock)
            socket_id = await sock.established
            auth = None
            if channel.startswith(("private-", "presence-")):
                auth = authorize_channel(target.key, target.secret, socket_id, channel)["auth"]
            sock.send(wire.subscribe(channel, auth))
            await sock.subscribed
    except TimeoutError:
        sock.close()
        raise SubscribeError(f"not subscribed to {channel} within {limit} s") from None
    except BaseException:
        sock.close()
        raise
    return sock


def now_ns() -> int:
    """Wall-clock nanoseconds, the clock the send timestamps use (same machine only)."""
    return time.time_ns()


def _resolve(future: asyncio.Future[object], value: object) -> None:
    if not future.done():
        future.set_result(value)


def _reject(future: asyncio.Future[object], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
        future.exception()  # marks it retrieved: nobody may be waiting any more
