"""Protocol errors, their codes and the exact wire text Pusher uses (PROTOCOL.md §5, LIMITS.md §2-3).

Hierarchy::

    PusherError                    a ``pusher:error`` frame: code + message
    ├── ConnectionRefused          error frame, then close with the same code (§5.3)
    └── ClientEventRejected        error frame with ``channel``, connection kept (§11.2)
    SubscriptionError              a ``pusher:subscription_error`` frame (§7.4)
    ProtocolViolation              unparseable client input; becomes ``Invalid message format``
    InvalidState                   our own misuse of the core (an AssertionError)
"""

from __future__ import annotations

import json
from enum import IntEnum

from pusherd.protocol.names import EventName


class ErrorCode(IntEnum):
    """Codes of ``pusher:error`` frames and of 4xxx closes."""

    #: app only accepts TLS connections; pusher-js retries with wss
    SSL_ONLY = 4000
    #: unknown app key
    APP_NOT_FOUND = 4001
    #: app disabled
    APP_DISABLED = 4003
    #: app over its connection quota
    OVER_QUOTA = 4004
    #: path is not PREFIX/app/{key}
    PATH_NOT_FOUND = 4005
    #: protocol query parameter not an integer in 4-7
    UNSUPPORTED_PROTOCOL = 4007
    #: sign-in rejected, user terminated, or not authorized in time
    UNAUTHORIZED = 4009
    #: server over capacity, or a slow consumer; retry after back-off
    OVER_CAPACITY = 4100
    #: reconnect now (server draining)
    RECONNECT = 4200
    #: no reply to our ping
    PONG_NOT_RECEIVED = 4201
    #: closed after inactivity (legacy clients)
    INACTIVITY = 4202
    #: client event refused (rate, size, name, disabled)
    CLIENT_EVENT_REJECTED = 4301
    #: watchlist longer than allowed; first ids kept
    WATCHLIST_LIMIT = 4302


#: RFC 6455 close code for a message over the size cap
CLOSE_MESSAGE_TOO_BIG = 1009


def error_message(code: int | None, message: str, channel: str | None = None) -> str:
    """Serialize a ``pusher:error`` frame; ``data`` is an object (§5.1)."""
    frame: dict[str, object] = {"event": EventName.ERROR.value}
    if channel is not None:
        frame["channel"] = channel
    frame["data"] = {"code": code, "message": message}
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class PusherError(Exception):
    """An error reported to the client as ``pusher:error``."""

    code: int | None = None
    message: str = ""

    def __init__(self, message: str | None = None, code: int | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def to_message(self) -> str:
        return error_message(self.code, self.message)


class ConnectionRefused(PusherError):
    """An error that ends the connection: the frame, then a close with ``code``."""

    code: int = ErrorCode.RECONNECT


class SslOnly(ConnectionRefused):
    code = ErrorCode.SSL_ONLY
    message = "Application only accepts SSL connections, reconnect using wss://"


class AppNotFound(ConnectionRefused):
    code = ErrorCode.APP_NOT_FOUND
    message = "Application does not exist"


class AppDisabled(ConnectionRefused):
    code = ErrorCode.APP_DISABLED
    message = "Application disabled"


class OverQuota(ConnectionRefused):
    code = ErrorCode.OVER_QUOTA
    message = "Application is over connection quota"


class PathNotFound(ConnectionRefused):
    code = ErrorCode.PATH_NOT_FOUND
    message = "Path not found"


class UnsupportedProtocol(ConnectionRefused):
    code = ErrorCode.UNSUPPORTED_PROTOCOL
    message = "Unsupported protocol version"


class OverCapacity(ConnectionRefused):
    code = ErrorCode.OVER_CAPACITY
    message = "Over capacity"


class ServerShuttingDown(ConnectionRefused):
    code = ErrorCode.RECONNECT
    message = "Server is shutting down; please reconnect"


class PongNotReceived(ConnectionRefused):
    code = ErrorCode.PONG_NOT_RECEIVED
    message = "Pong reply not received"


class Terminated(ConnectionRefused):
    code = ErrorCode.UNAUTHORIZED
    message = "Connection terminated by the application"


class NotAuthorizedInTime(ConnectionRefused):
    code = ErrorCode.UNAUTHORIZED
    message = "Connection not authorized within timeout"


class ClientEventRejected(PusherError):
    """A refused client event: the error frame carries ``channel`` (§11.2)."""

    def __init__(self, message: str, code: int | None, channel: str) -> None:
        super().__init__(message, code)
        self.code = code
        self.channel = channel

    def to_message(self) -> str:
        return error_message(self.code, self.message, self.channel)


class SubscriptionError(Exception):
    """A refused subscription, sent as ``pusher:subscription_error`` (§7.4)."""

    def __init__(self, type_: str, error: str, status: int) -> None:
        super().__init__(error)
        self.type = type_
        self.error = error
        self.status = status

    def to_message(self, channel: str) -> str:
        return json.dumps(
            {
                "event": EventName.SUBSCRIPTION_ERROR.value,
                "channel": channel,
                "data": {"type": self.type, "error": self.error, "status": self.status},
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )


def auth_error(error: str) -> SubscriptionError:
    return SubscriptionError("AuthError", error, 401)


def invalid_channel() -> SubscriptionError:
    return SubscriptionError("InvalidChannel", "Invalid channel name", ErrorCode.UNAUTHORIZED)


def limit_reached(error: str, status: int) -> SubscriptionError:
    return SubscriptionError("LimitReached", error, status)


class ProtocolViolation(Exception):
    """Client input that does not parse as a protocol message (§13)."""

    message = "Invalid message format"


class InvalidState(AssertionError):
    """Our own code used the core wrongly; never caused by peer input."""
