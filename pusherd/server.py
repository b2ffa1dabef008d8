"""The network shell: one asyncio protocol per socket serving WebSocket and HTTP on one port.

HTTP is parsed by httptools (API requests and the upgrade alike); WebSocket frames
are parsed by the websockets library's sans-I/O layer. Outbound frames are written
straight to the transport, whose write buffer, capped, is the per-socket queue.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import secrets
import ssl
import typing
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Protocol

import httptools
from websockets.exceptions import InvalidState as WsInvalidState
from websockets.frames import CloseCode, Opcode
from websockets.protocol import SERVER, State
from websockets.protocol import Protocol as WebSocketProtocol

from pusherd.config import Settings
from pusherd.hub import Hub
from pusherd.protocol.errors import ConnectionRefused, ErrorCode, ServerShuttingDown
from pusherd.protocol.frames import text_frame
from pusherd.protocol.handshake import check_handshake
from pusherd.protocol.session import Session
from server_api.http import ApiRequest, ApiResponse

logger = logging.getLogger("pusherd.connection")

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: "if the close handshake has not completed 5 s later, drop the TCP connection" (§5.3)
CLOSE_TIMEOUT = 5.0


class Api(Protocol):
    """The HTTP routes the server dispatches to (server_api.router.Api)."""

    def handles(self, path: str) -> bool: ...

    async def handle(self, request: ApiRequest) -> ApiResponse: ...


Route = Callable[[ApiRequest], "ApiResponse | Awaitable[ApiResponse]"]


class SocketIds:
    """Socket ids in Pusher's ``\\d+.\\d+`` form, unique among this node's live connections."""

    def __init__(self) -> None:
        self.node = secrets.randbelow(900_000_000) + 100_000_000
        self._counter = itertools.count(secrets.randbelow(1_000_000_000))

    def next(self) -> str:
        return f"{self.node}.{next(self._counter)}"


class Server:
    """Listens on one port; owns the connections and the sweep."""

    def __init__(
        self, settings: Settings, hub: Hub, api: Api, *, routes: dict[str, Route] | None = None
    ) -> None:
        self.settings = settings
        self.hub = hub
        self.api = api
        self.routes = routes or {}
        self.connections: set[Connection] = set()
        self.socket_ids = SocketIds()
        self.draining = False
        #: set when the last connection closes
        self._idle = asyncio.Event()
        self.ssl: ssl.SSLContext | None = None
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        if settings.ssl_certfile:
            self.ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ssl.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)

    @property
    def sockets(self) -> list[Any]:
        return list(self._server.sockets) if self._server is not None else []

    @property
    def port(self) -> int:
        return int(self.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(self),
            self.settings.host,
            self.settings.port,
            ssl=self.ssl,
            backlog=4096,
            reuse_address=True,
        )
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.timeout_sweep)
            try:
                self.hub.tick()
            except Exception:
                logger.exception("sweep failed")

    async def stop(self) -> None:
        """Stop listening and close every connection now."""
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in list(self.connections):
            connection.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def drain(self, grace: float) -> None:
        """Stop accepting, then send 4200 to open connections in batches spread over ``grace``."""
        self.draining = True
        if self._server is not None:
            self._server.close()
        sessions = [c for c in self.connections if c.session is not None]
        batches = max(1, min(len(sessions), 10))
        for index in range(batches):
            for connection in sessions[index::batches]:
                if connection.session is not None:
                    self.hub.close(connection.session, ServerShuttingDown())
            if index < batches - 1:
                await asyncio.sleep(grace * 0.8 / batches)
        if self.connections:
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace * 0.2 + 0.1)
        await self.stop()

    def route(self, request: ApiRequest) -> ApiResponse | Awaitable[ApiResponse]:
        route = self.routes.get(request.path)
        if route is not None:
            return route(request)
        if self.api.handles(request.path):
            return self.api.handle(request)
        return json_error(HTTPStatus.NOT_FOUND, "Not found")


def json_error(status: int, message: str) -> ApiResponse:
    return ApiResponse(status, json.dumps({"error": message}).encode())


class Connection(asyncio.Protocol):
    """One TCP connection: HTTP requests until it upgrades, then WebSocket frames."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.body_size = 0
        self.upgrade_request = False
        self.queue: deque[ApiRequest] | None = None
        self.task: asyncio.Task[None] | None = None
        self.ws: WebSocketProtocol | None = None
        self.session: Session | None = None
        self.fragments: list[bytes] | None = None
        self.fragment_opcode: Opcode | None = None
        self.closing = False
        self.abort_handle: asyncio.TimerHandle | None = None
        self.write: Callable[[bytes], Any] = _discard

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not an asyncio.Transport subclass, so no isinstance check.
        transport = typing.cast(asyncio.Transport, transport)
        self.transport = transport
        self.write = transport.write
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        server = self.server
        server.connections.discard(self)
        if not server.connections:
            server._idle.set()
        self.write = _discard
        if self.abort_handle is not None:
            self.abort_handle.cancel()
        if self.task is not None:
            self.task.cancel()
        if self.session is not None:
            session, self.session = self.session, None
            self.server.hub.disconnect(session)
            logger.info("closed %s", session.socket_id)

    def data_received(self, data: bytes) -> None:
        if self.ws is not None:
            self.receive_frames(data)
            return
        assert self.parser is not None
        rest = b""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            rest = data[exc.args[0] :] if exc.args else b""
        except httptools.HttpParserError:
            self.respond(
                json_error(HTTPStatus.BAD_REQUEST, "Malformed HTTP request"), keep_alive=False
            )
            return
        if self.upgrade_request:
            self.upgrade(rest)

    def pause_writing(self) -> None:
        # Called from inside a write, possibly during a fan-out loop: act later.
        if self.session is not None and not self.closing:
            asyncio.get_running_loop().call_soon(self.close_slow_consumer)

    def resume_writing(self) -> None:
        pass

    # HTTP (httptools callbacks)

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.body = []
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size <= self.server.settings.limit_http_body_bytes:
            self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.parser is not None
        if self.parser.should_upgrade() and any(
            name == b"upgrade" and value.lower() == b"websocket" for name, value in self.headers
        ):
            self.upgrade_request = True
            return
        path, _, query = self.url.decode("utf-8", "surrogateescape").partition("?")
        if self.body_size > self.server.settings.limit_http_body_bytes:
            self.respond(
                json_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request body too large"), False
            )
            return
        request = ApiRequest(
            self.parser.get_method().decode("latin-1"),
            path,
            query,
            b"".join(self.body),
            tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in self.headers),
        )
        if self.queue is not None:
            self.queue.append(request)
            return
        result = first_step(self.server.route(request))
        if isinstance(result, ApiResponse):
            self.respond(result, self.parser.should_keep_alive())
            return
        # A handler that suspended: answer requests in order, reading no more until done.
        self.queue = deque()
        assert self.transport is not None
        self.transport.pause_reading()
        self.task = asyncio.get_running_loop().create_task(self.answer(result))

    async def answer(self, first: Awaitable[ApiResponse]) -> None:
        assert self.parser is not None and self.queue is not None
        pending: Awaitable[ApiResponse] | ApiResponse = first
        while True:
            response = pending if isinstance(pending, ApiResponse) else await pending
            self.respond(response, self.parser.should_keep_alive())
            if not self.queue:
                break
            pending = first_step(self.server.route(self.queue.popleft()))
        self.queue = None
        self.task = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def respond(self, response: ApiResponse, keep_alive: bool) -> None:
        status = HTTPStatus(response.status)
        head = [
            f"HTTP/1.1 {status.value} {status.phrase}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
        ]
        head += [f"{name}: {value}" for name, value in response.headers]
        if not keep_alive:
            head.append("Connection: close")
        self.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        if not keep_alive and self.transport is not None:
            self.transport.close()

    # WebSocket

    def upgrade(self, rest: bytes) -> None:
        headers = dict(self.headers)
        key = headers.get(b"sec-websocket-key")
        if key is None or headers.get(b"sec-websocket-version") != b"13":
            response = json_error(HTTPStatus.BAD_REQUEST, "Invalid WebSocket upgrade request")
            response = ApiResponse(400, response.body, (("Sec-WebSocket-Version", "13"),))
            self.respond(response, keep_alive=False)
            return
        accept = base64.b64encode(hashlib.sha1(key.strip() + _GUID).digest())  # noqa: S324 (RFC 6455)
        self.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        server = self.server
        settings = server.settings
        self.parser = None
        self.ws = WebSocketProtocol(SERVER, max_size=settings.ws_max_message_bytes)
        assert self.transport is not None
        self.transport.set_write_buffer_limits(high=settings.ws_write_buffer_bytes)
        path, _, query = self.url.decode("utf-8", "surrogateescape").partition("?")
        hub = server.hub
        try:
            app = check_handshake(
                path,
                query,
                prefix=settings.path_prefix,
                find_app=hub.apps.by_key,
                tls=server.ssl is not None,
                draining=server.draining,
                app_connections=hub.connection_count_of,
                server_connections=hub.connection_count,
                server_limit=settings.limit_max_connections,
            )
        except ConnectionRefused as error:
            logger.info("refused %s: %s", path, error.message)
            self.write(text_frame(error.to_message()))
            self.close(int(error.code), error.message)
        else:
            session = Session(
                app,
                server.socket_ids.next(),
                hub.clock(),
                activity_timeout=settings.timeout_activity,
                pong_timeout=settings.timeout_pong,
            )
            session.sink = self
            self.session = session
            hub.connect(session)
            logger.info("opened %s app=%s", session.socket_id, app.id)
        if rest:
            self.receive_frames(rest)

    def receive_frames(self, data: bytes) -> None:
        ws = self.ws
        assert ws is not None
        ws.receive_data(data)
        hub = self.server.hub
        for frame in ws.events_received():
            session = self.session
            opcode = frame.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if not frame.fin:
                    self.fragments = [frame.data]
                    self.fragment_opcode = opcode
                    continue
                payload = frame.data
            elif opcode is Opcode.CONT:
                if self.fragments is None:
                    continue
                self.fragments.append(frame.data)
                if not frame.fin:
                    continue
                payload = b"".join(self.fragments)
                opcode = self.fragment_opcode or Opcode.BINARY
                self.fragments = None
            else:
                # Ping, pong and close: websockets answers them; all count as activity.
                if session is not None:
                    session.receive_activity(hub.clock())
                continue
            if session is None or self.closing:
                continue
            hub.messages_in += 1
            hub.bytes_in += len(payload)
            if opcode is Opcode.BINARY:
                session.receive_binary(hub.clock())
                hub.process(session)
                continue
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                ws.fail(CloseCode.INVALID_DATA, "invalid UTF-8")
                break
            hub.receive_text(session, text)
        self.send_pending()

    def send_pending(self) -> None:
        ws = self.ws
        assert ws is not None and self.transport is not None
        for data in ws.data_to_send():
            if data:
                self.write(data)
            else:
                # websockets' end-of-stream marker: close the TCP connection.
                self.transport.close()
                return
        if ws.state is State.CLOSED:
            self.transport.close()

    # Sink (used by the hub)

    def ping(self) -> None:
        if self.ws is not None and self.ws.state is State.OPEN:
            self.ws.send_ping(b"")
            self.send_pending()

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; drop the socket if it does not finish in time."""
        if self.closing or self.ws is None or self.transport is None:
            return
        self.closing = True
        with contextlib.suppress(WsInvalidState):
            self.ws.send_close(code, reason.encode()[:123].decode("utf-8", "ignore"))
        self.send_pending()
        self.abort_handle = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.abort)

    def close_slow_consumer(self) -> None:
        """The peer reads too slowly: close 4100 with no ``pusher:error`` (§5.3)."""
        session = self.session
        if session is None or self.closing:
            return
        logger.warning("closing slow consumer %s: write buffer full", session.socket_id)
        self.session = None
        self.server.hub.disconnect(session)
        self.close(int(ErrorCode.OVER_CAPACITY), "Write buffer full")

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _discard(data: bytes) -> None:
    pass


def first_step(
    result: ApiResponse | Awaitable[ApiResponse],
) -> ApiResponse | Awaitable[ApiResponse]:
    """Run a handler's coroutine until it first suspends; its response if it never does.

    Most API requests (a trigger, a channel query on one node) never wait on anything: driving
    them here answers them in the same loop iteration, without a task, a scheduled step or a
    pause of reading. A handler that does suspend finishes in an awaitable that continues
    exactly where it stopped.
    """
    if isinstance(result, ApiResponse) or not isinstance(result, typing.Coroutine):
        return result
    try:
        yielded = result.send(None)
    except StopIteration as stop:
        return typing.cast(ApiResponse, stop.value)
    except Exception:
        logger.exception("API handler failed")
        return json_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")
    return _finish(_Resumed(result, yielded))


async def _finish(resumed: _Resumed) -> ApiResponse:
    return await resumed


class _Resumed:
    """Awaiting it continues a coroutine that has already run to its first suspension."""

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: typing.Coroutine[Any, Any, ApiResponse], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> typing.Generator[Any, Any, ApiResponse]:
        # What ``yield from`` does, after a first step already taken: pass what the event
        # loop sends or throws (a result, a cancellation) to the coroutine, its yields up.
        coro, yielded = self.coro, self.yielded
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (a cancellation): pass it on
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return typing.cast(ApiResponse, stop.value)
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return typing.cast(ApiResponse, stop.value)
