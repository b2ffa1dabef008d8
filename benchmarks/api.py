"""A minimal keep-alive HTTP/1.1 client that sends signed trigger requests to the HTTP API."""

from __future__ import annotations

import asyncio

import httptools

from benchmarks.target import Target, resolve
from client_auth.api import encode_query, signed_params


def signed_request(target: Target, path: str, body: bytes, timestamp: int | None = None) -> bytes:
    """Return the bytes of a signed ``POST path`` request with a JSON ``body``.

    Args:
        target: the server and app credentials.
        path: the API path, e.g. ``/apps/app-id/events``.
        body: the JSON body.
        timestamp: ``auth_timestamp`` in Unix seconds; now when omitted.
    """
    params = signed_params(target.key, target.secret, "POST", path, body, timestamp=timestamp)
    head = (
        f"POST {path}?{encode_query(params)} HTTP/1.1\r\nHost: {target.address}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HttpError(ConnectionError):
    """The connection closed or failed before a whole response arrived."""


class _ResponseProtocol(asyncio.Protocol):
    """Feeds the socket into an httptools parser and completes one future per response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.WriteTransport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"bad HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(HttpError("connection closed before the response"))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body, self.body = b"".join(self.body), []
        if not self.parser.should_keep_alive():
            # soketi answers every API call with "Connection: close": reconnect, as SDKs do.
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), body))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class ApiClient:
    """One keep-alive connection to a target's HTTP API, one request at a time.

    Every request is signed afresh (current ``auth_timestamp``), as an SDK would.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self._protocol: _ResponseProtocol | None = None

    async def _connection(self) -> _ResponseProtocol:
        if self._protocol is None or self._protocol.closed:
            loop = asyncio.get_running_loop()
            _, protocol = await loop.create_connection(
                _ResponseProtocol, resolve(self.target.host), self.target.port
            )
            self._protocol = protocol
        return self._protocol

    async def post(self, path: str, body: bytes, limit: float = 10.0) -> tuple[int, bytes]:
        """Send a signed POST and return ``(status, body)``.

        Raises:
            HttpError: the connection failed; the next call reconnects.
            TimeoutError: no response within ``limit`` seconds.
        """
        protocol = await self._connection()
        protocol.waiter = asyncio.get_running_loop().create_future()
        assert protocol.transport is not None
        protocol.transport.write(signed_request(self.target, path, body))
        try:
            async with asyncio.timeout(limit):
                return await protocol.waiter
        except BaseException:
            # A half-read response would desynchronise the next one: start afresh.
            self.close()
            raise

    def close(self) -> None:
        """Close the connection, if open."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
