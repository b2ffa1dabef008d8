"""Driving the protocol core in tests: apps, signed tokens, and frames decoded as pusher-js does."""

from __future__ import annotations

import contextlib
import json
from itertools import count
from typing import Any

from client_auth import authenticate_user, authorize_channel
from pusherd.protocol.app import App, Secret
from pusherd.protocol.registry import ChannelRegistry, Outcome
from pusherd.protocol.session import (
    ClientEvent,
    Close,
    Effect,
    Join,
    Leave,
    SendPing,
    Session,
    SignIn,
)
from pusherd.protocol.users import UserRegistry

# Credentials of Pusher's documentation examples (AUTH.md §5).
KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
SOCKET_ID = "1234.1234"
MASTER_KEY = bytes(range(32))

#: events whose ``data`` is double-encoded on the wire (PROTOCOL.md §2.1)
STRING_DATA = {
    "pusher:connection_established",
    "pusher_internal:subscription_succeeded",
    "pusher_internal:member_added",
    "pusher_internal:member_removed",
    "pusher_internal:subscription_count",
    "pusher_internal:watchlist_events",
}


def make_app(**changes: Any) -> App:
    return App(id="1", key=KEY, secret=Secret(SECRET), **changes)


def _no_constants(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON; JSON.parse would throw")


def parse_wire(frame: str) -> dict[str, Any]:
    """``JSON.parse(frame)``, strictly, after checking the frame against §2.1's table."""
    frame.encode()  # every frame must have a UTF-8 form
    value = json.loads(frame, parse_constant=_no_constants)
    assert isinstance(value, dict)
    event = value["event"]
    assert isinstance(event, str)
    data: Any = value.get("data")
    if event in STRING_DATA:
        assert isinstance(data, str), frame
    elif event == "pusher:error":
        assert set(data) == {"code", "message"}, frame
        assert data["code"] is None or type(data["code"]) is int, frame
        assert isinstance(data["message"], str), frame
    elif event in ("pusher:ping", "pusher:pong"):
        assert data == {}, frame
    elif event == "pusher:signin_success":
        assert isinstance(data["user_data"], str), frame
    elif event == "pusher:subscription_error":
        assert set(data) == {"type", "error", "status"}, frame
        assert type(data["status"]) is int, frame
    elif event == "pusher:cache_miss":
        assert "data" not in value, frame
    return value


def decode(frame: str) -> dict[str, Any]:
    """Decode a frame as pusher-js does: ``JSON.parse``, then ``data`` too if it is a string."""
    value = parse_wire(frame)
    data = value.get("data")
    if isinstance(data, str):
        with contextlib.suppress(ValueError):  # pusher-js keeps the raw string
            value["data"] = json.loads(data)
    return value


def sent(session: Session) -> list[dict[str, Any]]:
    """Take the frames queued on ``session``, decoded."""
    return [decode(frame) for frame in session.messages_to_send()]


def assert_sent(session: Session, *expected: dict[str, Any]) -> None:
    """Assert ``session`` queued exactly ``expected`` frames (decoded), in order."""
    assert sent(session) == list(expected)


def error(code: int | None, message: str, channel: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"event": "pusher:error", "data": {"code": code, "message": message}}
    if channel is not None:
        frame["channel"] = channel
    return frame


INVALID_FORMAT = error(None, "Invalid message format")


def subscription_error(channel: str, type_: str, message: str, status: int) -> dict[str, Any]:
    return {
        "event": "pusher:subscription_error",
        "channel": channel,
        "data": {"type": type_, "error": message, "status": status},
    }


def succeeded(channel: str, data: Any = None) -> dict[str, Any]:
    return {
        "event": "pusher_internal:subscription_succeeded",
        "channel": channel,
        "data": {} if data is None else data,
    }


def open_session(app: App | None = None, socket_id: str = SOCKET_ID, now: float = 0.0) -> Session:
    """A session whose ``connection_established`` has already been taken."""
    session = Session(app or make_app(), socket_id, now)
    session.messages_to_send()
    return session


def frame(event: str, data: Any = None, channel: Any = None) -> str:
    value: dict[str, Any] = {"event": event}
    if channel is not None:
        value["channel"] = channel
    if data is not None:
        value["data"] = data
    return json.dumps(value)


def subscribe(channel: str, **data: Any) -> str:
    return frame("pusher:subscribe", {"auth": "", "channel": channel, **data})


def unsubscribe(channel: str) -> str:
    return frame("pusher:unsubscribe", {"channel": channel})


def private_subscribe(session: Session, channel: str) -> str:
    """A subscribe signed over ``socket_id:channel`` by the app's auth endpoint."""
    token = authorize_channel(
        KEY, SECRET, session.socket_id, channel, encryption_master_key=MASTER_KEY
    )
    token.pop("shared_secret", None)  # pusher-js keeps it to itself
    return subscribe(channel, **token)


def presence_subscribe(session: Session, channel: str, user_id: Any, user_info: Any = None) -> str:
    presence: dict[str, Any] = {"user_id": user_id}
    if user_info is not None:
        presence["user_info"] = user_info
    token = authorize_channel(KEY, SECRET, session.socket_id, channel, presence)
    return subscribe(channel, **token)


def signin(session: Session, user: dict[str, Any]) -> str:
    return frame("pusher:signin", authenticate_user(KEY, SECRET, session.socket_id, user))


class Node:
    """One app's registries, applying sessions' effects as the hub does, with no I/O.

    Broadcasts are queued on the receiving sessions, so tests read every frame with
    :func:`sent`; webhooks and closes are collected.
    """

    def __init__(self, app: App | None = None, now: float = 0.0) -> None:
        self.app = app or make_app()
        self.now = now
        self.registry = ChannelRegistry(self.app)
        self.users = UserRegistry(self.app)
        self.webhooks: list[dict[str, Any]] = []
        self.client_events: list[ClientEvent] = []
        self.closed: list[tuple[Session, Close]] = []
        self.pings: list[Session] = []
        self._ids = count(1)

    def connect(self) -> Session:
        return open_session(self.app, f"{next(self._ids)}.{next(self._ids)}", self.now)

    def receive(self, session: Session, text: str) -> None:
        session.receive_text(text, self.now)
        self.process(session, session.effects())

    def tick(self, session: Session, now: float) -> None:
        self.now = now
        session.tick(now)
        self.process(session, session.effects())

    def process(self, session: Session, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Join):
                outcome = self.registry.join(
                    session, effect.channel, effect.kind, effect.member, self.now
                )
                self.deliver(outcome)
            elif isinstance(effect, Leave):
                self.deliver(self.registry.leave(session, effect.channel, self.now))
            elif isinstance(effect, ClientEvent):
                self.client_events.append(effect)
            elif isinstance(effect, SignIn):
                self.users.sign_in(session)
            elif isinstance(effect, SendPing):
                self.pings.append(session)
            else:
                self.closed.append((session, effect))
                self.disconnect(session)

    def deliver(self, outcome: Outcome) -> None:
        for broadcast in outcome.broadcasts:
            for subscriber in self.registry.subscribers(broadcast.channel):
                if subscriber is not broadcast.exclude:
                    subscriber.send(broadcast.message)
        self.webhooks += outcome.webhooks

    def disconnect(self, session: Session) -> None:
        self.deliver(self.registry.leave_all(session, self.now))
        self.users.sign_out(session)

    def take_webhooks(self) -> list[dict[str, Any]]:
        out, self.webhooks = self.webhooks, []
        return out
