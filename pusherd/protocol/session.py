"""One connection's protocol state machine: what a client may do, checked without I/O.

Works like websockets' ``Protocol``: :meth:`Session.receive_text` and
:meth:`Session.tick` take input; :meth:`Session.messages_to_send` returns frames for
this connection and :meth:`Session.effects` returns requests for the hub (joins,
relays, closes). Peer input never makes it raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from client_auth import channels as channel_auth
from client_auth import users as user_auth
from client_auth.signatures import verify
from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.channels import (
    ChannelKind,
    ChannelType,
    classify,
    is_valid_name_characters,
    is_valid_user_id,
    server_to_user_id,
)
from pusherd.protocol.errors import (
    ClientEventRejected,
    ConnectionRefused,
    ErrorCode,
    NotAuthorizedInTime,
    PongNotReceived,
    ProtocolViolation,
    PusherError,
    SubscriptionError,
    auth_error,
    error_message,
    invalid_channel,
    limit_reached,
)
from pusherd.protocol.names import CLIENT_EVENT_PREFIX, EventName
from pusherd.protocol.ratelimit import SlidingWindow

INVALID_FORMAT = error_message(None, ProtocolViolation.message)


class State(Enum):
    OPEN = 1
    CLOSED = 2


@dataclass(frozen=True, slots=True)
class Member:
    """A presence member: one user as one connection presented it (§8.1)."""

    #: string form, used for identity: ``String(user_id)`` as pusher-js sees it
    user_id: str
    #: as the auth endpoint gave it (string or number), echoed back
    raw_user_id: str | int | float
    user_info: Any = None


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in user (§12.1)."""

    id: str
    user_info: Any
    watchlist: tuple[str, ...]
    user_data: str


@dataclass(frozen=True, slots=True)
class Join:
    channel: str
    kind: ChannelKind
    member: Member | None


@dataclass(frozen=True, slots=True)
class Leave:
    channel: str


@dataclass(frozen=True, slots=True)
class ClientEvent:
    channel: str
    event: str
    data: Any
    user_id: Any


@dataclass(frozen=True, slots=True)
class SignIn:
    user: User


@dataclass(frozen=True, slots=True)
class SendPing:
    """Send a WebSocket ping frame (the ``pusher:ping`` event is already queued)."""


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


Effect = Join | Leave | ClientEvent | SignIn | SendPing | Close


class Session:
    """The protocol state of one WebSocket connection."""

    __slots__ = (
        "_client_events",
        "_effects",
        "_outgoing",
        "activity_timeout",
        "app",
        "authorized",
        "last_activity",
        "opened_at",
        "ping_sent_at",
        "pong_timeout",
        "sink",
        "socket_id",
        "state",
        "subscriptions",
        "user",
    )

    def __init__(
        self,
        app: App,
        socket_id: str,
        now: float,
        *,
        activity_timeout: int = 120,
        pong_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.socket_id = socket_id
        self.state = State.OPEN
        self.activity_timeout = activity_timeout
        self.pong_timeout = pong_timeout
        self.opened_at = now
        self.last_activity = now
        self.ping_sent_at: float | None = None
        self.user: User | None = None
        #: channel -> presence member (None on other channels); kept by the registry
        self.subscriptions: dict[str, Member | None] = {}
        self.authorized = False
        #: where the shell sends this connection's frames; the core never uses it
        self.sink: Any = None
        #: the client events accepted in the last second; made at the first one
        self._client_events: SlidingWindow | None = None
        self._outgoing: list[str] = [messages.connection_established(socket_id, activity_timeout)]
        self._effects: list[Effect] = []

    # Output

    def messages_to_send(self) -> list[str]:
        """Return and forget the frames queued for this connection."""
        out, self._outgoing = self._outgoing, []
        return out

    def effects(self) -> list[Effect]:
        """Return and forget the requests queued for the hub."""
        out, self._effects = self._effects, []
        return out

    def has_output(self) -> bool:
        """Tell whether frames or effects are queued, without taking them."""
        return bool(self._outgoing or self._effects)

    def send(self, message: str) -> None:
        """Queue a frame produced elsewhere (the registry, the hub)."""
        self._outgoing.append(message)

    # Input

    def receive_activity(self, now: float) -> None:
        """Count an inbound frame of any kind as a sign of life (§4.2)."""
        self.last_activity = now
        self.ping_sent_at = None

    def receive_binary(self, now: float) -> None:
        """Binary frames are not part of the protocol (§13)."""
        self.receive_activity(now)
        if self.state is State.OPEN:
            self._outgoing.append(INVALID_FORMAT)

    def receive_text(self, text: str, now: float) -> None:
        """Handle one text frame from the client."""
        self.receive_activity(now)
        if self.state is not State.OPEN:
            return
        try:
            message = messages.parse_message(text)
        except ProtocolViolation:
            self._outgoing.append(INVALID_FORMAT)
            return
        event = message.event
        try:
            if event == EventName.PING:
                self._outgoing.append(messages.PONG)
            elif event == EventName.PONG:
                pass
            elif event == EventName.SUBSCRIBE:
                self.handle_subscribe(message.data)
            elif event == EventName.UNSUBSCRIBE:
                self.handle_unsubscribe(message.data)
            elif event == EventName.SIGNIN:
                self.handle_signin(message.data)
            elif event.startswith(CLIENT_EVENT_PREFIX):
                self.handle_client_event(message, now)
            else:
                text = f"Unsupported event received on socket: '{event}'"
                self._outgoing.append(error_message(None, text))
        except ProtocolViolation:
            self._outgoing.append(INVALID_FORMAT)
        except PusherError as exc:
            self._outgoing.append(exc.to_message())

    def tick(self, now: float) -> None:
        """Run liveness and authorization deadlines; called by a periodic sweep (§4.2, §12.6)."""
        if self.state is not State.OPEN:
            return
        timeout = self.app.timeout_authorization
        if timeout is not None and not self.authorized and now - self.opened_at >= timeout:
            self.close(NotAuthorizedInTime())
        elif self.ping_sent_at is None:
            if now - self.last_activity >= self.activity_timeout:
                self._outgoing.append(messages.PING)
                self._effects.append(SendPing())
                self.ping_sent_at = now
        elif now - self.ping_sent_at >= self.pong_timeout:
            self.close(PongNotReceived())

    def close(self, error: ConnectionRefused) -> None:
        """Send ``error`` and close with its code (§5.3); later input is ignored."""
        if self.state is not State.OPEN:
            return
        self.state = State.CLOSED
        self._outgoing.append(error.to_message())
        self._effects.append(Close(error.code, error.message))

    # Handlers

    def handle_subscribe(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("channel"), str):
            raise ProtocolViolation
        channel: str = data["channel"]
        if channel in self.subscriptions:
            # "Subscribing again to a channel the connection is already in: no state change,
            # reply with subscription_succeeded again ... and no error" (§7.2): the auth sent
            # again is not checked, and the registry answers with the current members.
            self._effects.append(Join(channel, classify(channel), self.subscriptions[channel]))
            return
        try:
            kind, member = self._check_subscription(channel, data)
        except SubscriptionError as exc:
            self._outgoing.append(exc.to_message(channel))
            return
        if kind.type is ChannelType.SERVER_TO_USER:
            # Delivery goes by user, not by subscription (§12.3).
            self._outgoing.append(messages.subscription_succeeded(channel))
            return
        self._effects.append(Join(channel, kind, member))

    def _check_subscription(
        self, channel: str, data: dict[str, Any]
    ) -> tuple[ChannelKind, Member | None]:
        app = self.app
        if len(channel) > app.limit_channel_name_length:
            raise limit_reached(
                f"The channel name is longer than the allowed {app.limit_channel_name_length} characters.",
                ErrorCode.UNAUTHORIZED,
            )
        if not is_valid_name_characters(channel):
            raise invalid_channel()
        kind = classify(channel)
        if kind.type is ChannelType.SERVER_TO_USER:
            user_id = server_to_user_id(channel)
            if self.user is None or self.user.id != user_id:
                raise auth_error(f"Connection is not signed in as user {user_id}")
            return kind, None
        if not kind.needs_auth:
            return kind, None
        channel_data = data.get("channel_data")
        if not isinstance(channel_data, str):
            channel_data = None
        self._check_channel_auth(channel, data.get("auth"), channel_data, kind)
        if not kind.is_presence:
            return kind, None
        # The limits of §7.2 step 3 need the channel's members: the registry checks them.
        return kind, self._presence_member(channel_data)

    def _check_channel_auth(
        self, channel: str, auth: Any, channel_data: str | None, kind: ChannelKind
    ) -> None:
        """Verify ``auth`` over ``socket_id:channel[:channel_data]`` (AUTH.md §3)."""
        if not isinstance(auth, str) or ":" not in auth:
            raise auth_error(
                f"Auth value for subscription to {channel} is invalid: should be of format 'key:signature'"
            )
        key, signature = auth.split(":", 1)
        if key != self.app.key:
            raise auth_error(f"Invalid key in subscription auth data: '{key}'")
        secret = str(self.app.secret)
        if kind.is_presence:
            signed = channel_auth.string_to_sign(self.socket_id, channel, channel_data)
            if verify(secret, signed, signature):
                return
        else:
            signed = channel_auth.string_to_sign(self.socket_id, channel)
            if verify(secret, signed, signature):
                return
            # Some endpoints sign channel_data into private channels too (Reverb does).
            if channel_data is not None and verify(
                secret,
                channel_auth.string_to_sign(self.socket_id, channel, channel_data),
                signature,
            ):
                return
        raise auth_error(
            f"Invalid signature: Expected HMAC SHA256 hex digest of {signed}, but got {signature}"
        )

    def _presence_member(self, channel_data: str | None) -> Member:
        if channel_data is None:
            # Presence authorised by sign-in (§8.5).
            if self.user is None:
                raise auth_error("Invalid channel_data")
            return Member(self.user.id, self.user.id, self.user.user_info)
        try:
            value = messages.parse_json(channel_data)
        except ProtocolViolation:
            raise auth_error("Invalid channel_data") from None
        if not isinstance(value, dict):
            raise auth_error("Invalid channel_data")
        # "a JSON object with a string or number user_id" (AUTH.md §3): "" is a string.
        raw = value.get("user_id")
        if not messages.is_user_id_value(raw):
            raise auth_error("Invalid channel_data")
        return Member(messages.user_id_text(raw), raw, value.get("user_info"))

    def handle_unsubscribe(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("channel"), str):
            raise ProtocolViolation
        if data["channel"] in self.subscriptions:
            self._effects.append(Leave(data["channel"]))

    def handle_signin(self, data: Any) -> None:
        app = self.app
        if not app.enable_user_authentication:
            raise _signin_error("User authentication is not enabled for this app")
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("auth"), str)
            or not isinstance(data.get("user_data"), str)
        ):
            raise _signin_error("Invalid sign-in data")
        auth: str = data["auth"]
        user_data: str = data["user_data"]
        key, _, signature = auth.partition(":")
        if (
            not signature
            or key != app.key
            or not verify(
                str(app.secret), user_auth.string_to_sign(self.socket_id, user_data), signature
            )
        ):
            raise _signin_error("Invalid signature")
        try:
            value = messages.parse_json(user_data)
        except ProtocolViolation:
            value = None
        if not isinstance(value, dict):
            value = {}
        user_id = value.get("id")
        if not isinstance(user_id, str) or not user_id:
            raise _signin_error('The user data must contain a non-empty string "id" field.')
        if not is_valid_user_id(user_id, app.limit_user_id_length):
            raise _signin_error("Invalid user id")
        if self.user is not None:
            if self.user.id != user_id:
                raise _signin_error("Connection is already signed in as another user")
            self._outgoing.append(_signin_success(self.user.user_data))
            return
        watched = value.get("watchlist")
        # Numbers are compared by their JavaScript string form, as user ids are everywhere.
        watchlist = (
            [messages.user_id_text(w) for w in watched if messages.is_user_id_value(w)]
            if isinstance(watched, list)
            else []
        )
        # The watchlist, its 4302 warning included, is opt-in per app (§12.4).
        truncated = app.enable_watchlist and len(watchlist) > app.limit_watchlist_size
        user = User(
            user_id,
            value.get("user_info"),
            tuple(dict.fromkeys(watchlist[: app.limit_watchlist_size])),
            user_data,
        )
        self.user = user
        self.authorized = True
        self._outgoing.append(_signin_success(user_data))
        if truncated:
            self._outgoing.append(
                error_message(
                    ErrorCode.WATCHLIST_LIMIT,
                    f"Watchlist limit exceeded. Only the first {app.limit_watchlist_size} user IDs are accepted.",
                )
            )
        self._effects.append(SignIn(user))

    def handle_client_event(self, message: messages.ClientMessage, now: float) -> None:
        """Check a ``client-*`` event against §11.2's rules, in order."""
        channel = message.channel
        if not isinstance(channel, str):
            raise ProtocolViolation
        app = self.app
        rejected = ErrorCode.CLIENT_EVENT_REJECTED
        if not app.enable_client_events:
            raise ClientEventRejected(
                "The app does not have client messaging enabled.", rejected, channel
            )
        kind = classify(channel)
        if kind.is_encrypted:
            raise ClientEventRejected(
                "Client events are not supported on encrypted channels", None, channel
            )
        if not kind.allows_client_events:
            raise ClientEventRejected(
                "Client events are only supported on private and presence channels", None, channel
            )
        if channel not in self.subscriptions:
            raise ClientEventRejected(
                f"Cannot broadcast client event (connection not subscribed to channel {channel})",
                None,
                channel,
            )
        if len(message.event) > app.limit_event_name_length:
            raise ClientEventRejected(
                f"The event name is longer than the allowed {app.limit_event_name_length} characters.",
                rejected,
                channel,
            )
        if messages.json_size(message.data) > app.limit_event_data_bytes:
            raise ClientEventRejected(
                f"The event data is larger than the allowed {app.limit_event_data_bytes} bytes.",
                rejected,
                channel,
            )
        if not self._take_client_event_slot(now):
            raise ClientEventRejected("Client event rejected due to rate limit", rejected, channel)
        member = self.subscriptions[channel]
        user_id = member.raw_user_id if member is not None else None
        self._effects.append(ClientEvent(channel, message.event, message.data, user_id))

    def _take_client_event_slot(self, now: float) -> bool:
        """Accept at most ``limit_client_events_per_second`` in any one second."""
        window = self._client_events
        if window is None:
            limit = self.app.limit_client_events_per_second
            if limit <= 0:
                return False
            window = self._client_events = SlidingWindow(limit)
        return window.take(now) == 0.0


def _signin_error(message: str) -> PusherError:
    return PusherError(message, ErrorCode.UNAUTHORIZED)


def _signin_success(user_data: str) -> str:
    return messages.serialize_event(EventName.SIGNIN_SUCCESS, {"user_data": user_data})
