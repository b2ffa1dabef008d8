"""Error codes, close codes and their exact wire text (PROTOCOL.md §5, LIMITS.md §2-§3)."""

from __future__ import annotations

import json

import pytest

from pusherd.protocol import errors
from pusherd.protocol.errors import (
    ClientEventRejected,
    ConnectionRefused,
    ErrorCode,
    InvalidState,
    ProtocolViolation,
    PusherError,
    SubscriptionError,
    error_message,
)

# §5.3 "Closes our server initiates"
CLOSES = [
    (errors.ServerShuttingDown, 4200, "Server is shutting down; please reconnect"),
    (errors.PathNotFound, 4005, "Path not found"),
    (errors.AppNotFound, 4001, "Application does not exist"),
    (errors.AppDisabled, 4003, "Application disabled"),
    (
        errors.SslOnly,
        4000,
        "Application only accepts SSL connections, reconnect using wss://",
    ),
    (errors.UnsupportedProtocol, 4007, "Unsupported protocol version"),
    (errors.OverQuota, 4004, "Application is over connection quota"),
    (errors.OverCapacity, 4100, "Over capacity"),
    (errors.Terminated, 4009, "Connection terminated by the application"),
    (errors.NotAuthorizedInTime, 4009, "Connection not authorized within timeout"),
    (errors.PongNotReceived, 4201, "Pong reply not received"),
]


@pytest.mark.parametrize(("cls", "code", "message"), CLOSES, ids=[c.__name__ for c, _, _ in CLOSES])
def test_each_close_has_the_code_and_exact_text_of_5_3(
    cls: type[ConnectionRefused], code: int, message: str
) -> None:
    error = cls()

    assert (error.code, error.message, str(error)) == (code, message, message)
    assert json.loads(error.to_message()) == {
        "event": "pusher:error",
        "data": {"code": code, "message": message},
    }


def test_every_close_reason_fits_in_123_bytes() -> None:
    for cls in ConnectionRefused.__subclasses__():
        assert len(cls.message.encode()) <= 123


def test_no_close_uses_a_code_that_makes_pusher_js_give_up_for_good() -> None:
    # 4301 and 4302 are pusher:error codes, never close codes (§5.2).
    assert all(cls.code < 4300 for cls in ConnectionRefused.__subclasses__())


def test_error_codes_are_pushers_numbers() -> None:
    assert {c.name: int(c) for c in ErrorCode} == {
        "SSL_ONLY": 4000,
        "APP_NOT_FOUND": 4001,
        "APP_DISABLED": 4003,
        "OVER_QUOTA": 4004,
        "PATH_NOT_FOUND": 4005,
        "UNSUPPORTED_PROTOCOL": 4007,
        "UNAUTHORIZED": 4009,
        "OVER_CAPACITY": 4100,
        "RECONNECT": 4200,
        "PONG_NOT_RECEIVED": 4201,
        "INACTIVITY": 4202,
        "CLIENT_EVENT_REJECTED": 4301,
        "WATCHLIST_LIMIT": 4302,
    }
    assert errors.CLOSE_MESSAGE_TOO_BIG == 1009


def test_an_error_frame_has_an_object_data_with_a_null_or_integer_code() -> None:
    assert error_message(None, "Invalid message format") == (
        '{"event":"pusher:error","data":{"code":null,"message":"Invalid message format"}}'
    )
    assert error_message(ErrorCode.CLIENT_EVENT_REJECTED, "m") == (
        '{"event":"pusher:error","data":{"code":4301,"message":"m"}}'
    )


def test_a_pusher_error_takes_its_code_and_message() -> None:
    error = PusherError("Invalid signature", ErrorCode.UNAUTHORIZED)

    assert json.loads(error.to_message())["data"] == {"code": 4009, "message": "Invalid signature"}
    assert PusherError().code is None


def test_a_refused_client_event_names_its_channel() -> None:
    error = ClientEventRejected("Client event rejected due to rate limit", 4301, "private-a")

    assert json.loads(error.to_message()) == {
        "event": "pusher:error",
        "channel": "private-a",
        "data": {"code": 4301, "message": "Client event rejected due to rate limit"},
    }
    assert ClientEventRejected("m", None, "c").code is None


def test_a_subscription_error_is_the_soketi_shape_with_object_data() -> None:
    error = SubscriptionError("AuthError", "Invalid key in subscription auth data: 'k'", 401)

    assert error.to_message("private-foobar") == (
        '{"event":"pusher:subscription_error","channel":"private-foobar","data":'
        '{"type":"AuthError","error":"Invalid key in subscription auth data: \'k\'","status":401}}'
    )


def test_the_subscription_error_builders_use_the_7_4_types_and_statuses() -> None:
    assert vars(errors.auth_error("x")) == {"type": "AuthError", "error": "x", "status": 401}
    invalid = errors.invalid_channel()
    assert (invalid.type, invalid.error, invalid.status) == (
        "InvalidChannel",
        "Invalid channel name",
        4009,
    )
    limit = errors.limit_reached("y", 4100)
    assert (limit.type, limit.error, limit.status) == ("LimitReached", "y", 4100)


def test_a_protocol_violation_reads_as_invalid_message_format() -> None:
    assert ProtocolViolation.message == "Invalid message format"


def test_invalid_state_is_an_assertion_error() -> None:
    assert issubclass(InvalidState, AssertionError)
