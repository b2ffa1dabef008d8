"""The node's hub: applies session effects to the registries and fans events out to sockets.

Fan-out serializes an event once (JSON and frame header) and writes the same bytes
to each subscriber's transport; there is no per-subscriber await, task or encoding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.channels import classify, server_to_user_id
from pusherd.protocol.errors import ConnectionRefused, Terminated
from pusherd.protocol.frames import text_frame
from pusherd.protocol.names import SERVER_TO_USER_PREFIX, WebhookName
from pusherd.protocol.registry import ChannelRegistry, Outcome
from pusherd.protocol.session import (
    ClientEvent,
    Close,
    Join,
    Leave,
    SendPing,
    Session,
    SignIn,
)
from pusherd.protocol.users import UserRegistry
from server_api.hub import AppStore, ChannelStats, Publication

logger = logging.getLogger("pusherd.hub")


class Sink(Protocol):
    """Where a session's frames go: the shell's connection."""

    def write(self, frame: bytes) -> None: ...

    def ping(self) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


WebhookListener = Callable[[App, list[dict[str, Any]]], None]


class AppState:
    """One app's live state on this node."""

    __slots__ = ("app", "registry", "sessions", "users")

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = ChannelRegistry(app)
        self.users = UserRegistry(app)
        self.sessions: dict[str, Session] = {}


class Hub:
    """Every connection and channel of this node, and the API's view of them."""

    def __init__(
        self,
        apps: AppStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_webhooks: WebhookListener | None = None,
    ) -> None:
        self.apps = apps
        self.clock = clock
        self.states: dict[str, AppState] = {}
        self.connection_count = 0
        self.on_webhooks = on_webhooks

    def state(self, app: App) -> AppState:
        state = self.states.get(app.id)
        if state is None:
            state = self.states[app.id] = AppState(app)
        return state

    def connection_count_of(self, app: App) -> int:
        state = self.states.get(app.id)
        return len(state.sessions) if state is not None else 0

    # Connections

    def connect(self, session: Session) -> None:
        """Register an accepted connection and send its ``connection_established``."""
        self.state(session.app).sessions[session.socket_id] = session
        self.connection_count += 1
        self.flush(session)

    def disconnect(self, session: Session) -> None:
        """Forget a connection: leave its channels and sign it out. Idempotent."""
        state = self.states.get(session.app.id)
        if state is None or state.sessions.get(session.socket_id) is not session:
            return
        del state.sessions[session.socket_id]
        self.connection_count -= 1
        outcome = state.registry.leave_all(session, self.clock())
        self.deliver(state, outcome)
        for watcher in state.users.sign_out(session):
            self.flush(watcher)

    def receive_text(self, session: Session, text: str) -> None:
        session.receive_text(text, self.clock())
        self.process(session)

    def process(self, session: Session) -> None:
        """Send what a session queued and carry out its effects."""
        self.flush(session)
        effects = session.effects()
        if not effects:
            return
        state = self.state(session.app)
        for effect in effects:
            if isinstance(effect, Join):
                outcome = state.registry.join(
                    session, effect.channel, effect.kind, effect.member, self.clock()
                )
                self.flush(session)
                self.deliver(state, outcome)
            elif isinstance(effect, Leave):
                self.deliver(state, state.registry.leave(session, effect.channel, self.clock()))
            elif isinstance(effect, ClientEvent):
                self.relay_client_event(state, session, effect)
            elif isinstance(effect, SignIn):
                notified = state.users.sign_in(session)
                self.flush(session)
                for watcher in notified:
                    self.flush(watcher)
            elif isinstance(effect, SendPing):
                session.sink.ping()
            elif isinstance(effect, Close):
                self.flush(session)
                session.sink.close(effect.code, effect.reason)
                self.disconnect(session)

    def flush(self, session: Session) -> None:
        sink = session.sink
        for message in session.messages_to_send():
            sink.write(text_frame(message))

    def close(self, session: Session, error: ConnectionRefused) -> None:
        """End a connection with ``error`` (terminate, drain)."""
        session.close(error)
        self.process(session)

    def tick(self) -> None:
        """The periodic sweep: liveness, authorization deadlines, throttled counts, cache expiry."""
        now = self.clock()
        for state in list(self.states.values()):
            for session in list(state.sessions.values()):
                session.tick(now)
                if session._outgoing or session._effects:
                    self.process(session)
            self.deliver(state, state.registry.flush_counts(now))
            state.registry.expire(now)

    # Delivery

    def deliver(self, state: AppState, outcome: Outcome) -> None:
        registry = state.registry
        for broadcast in outcome.broadcasts:
            self.fan_out(
                registry.subscribers(broadcast.channel),
                text_frame(broadcast.message),
                broadcast.exclude,
            )
        if outcome.webhooks:
            self.emit_webhooks(state.app, outcome.webhooks)

    @staticmethod
    def fan_out(sessions: Iterable[Session], frame: bytes, exclude: Session | None = None) -> None:
        """Write one frame to many sockets: the hot path."""
        if exclude is None:
            for session in sessions:
                session.sink.write(frame)
        else:
            for session in sessions:
                if session is not exclude:
                    session.sink.write(frame)

    def relay_client_event(self, state: AppState, sender: Session, event: ClientEvent) -> None:
        """Relay to every other subscriber, never echoing to the sender (§11.3)."""
        message = messages.serialize_event(event.event, event.data, event.channel, event.user_id)
        self.fan_out(state.registry.subscribers(event.channel), text_frame(message), sender)
        webhook: dict[str, Any] = {
            "name": WebhookName.CLIENT_EVENT.value,
            "channel": event.channel,
            "event": event.event,
            "data": event.data if isinstance(event.data, str) else messages.dumps(event.data),
            "socket_id": sender.socket_id,
        }
        if event.user_id is not None:
            webhook["user_id"] = str(event.user_id)
        self.emit_webhooks(state.app, [webhook])

    def emit_webhooks(self, app: App, events: list[dict[str, Any]]) -> None:
        if self.on_webhooks is not None and app.webhooks:
            self.on_webhooks(app, events)

    # The HTTP API's side (server_api.hub.Hub)

    def publish(self, app: App, publications: Sequence[Publication]) -> None:
        """Deliver API events in order; one serialization per channel."""
        state = self.state(app)
        now = self.clock()
        for publication in publications:
            exclude = state.sessions.get(publication.socket_id) if publication.socket_id else None
            for channel in publication.channels:
                message = messages.serialize_event(publication.name, publication.data, channel)
                if channel.startswith(SERVER_TO_USER_PREFIX):
                    targets: Iterable[Session] = state.users.connections(server_to_user_id(channel))
                else:
                    targets = state.registry.subscribers(channel)
                    if classify(channel).cache:
                        state.registry.remember(channel, publication.name, publication.data, now)
                self.fan_out(targets, text_frame(message), exclude)

    async def channels(self, app: App, prefix: str) -> dict[str, ChannelStats]:
        state = self.states.get(app.id)
        if state is None:
            return {}
        return {
            channel.name: ChannelStats(len(channel.subscribers), len(channel.members))
            for channel in state.registry
            if channel.name.startswith(prefix)
        }

    async def channel(self, app: App, name: str) -> ChannelStats:
        state = self.states.get(app.id)
        if state is None:
            return ChannelStats()
        now = self.clock()
        cached = state.registry.cached(name, now)
        cache = (cached.data, max(0.0, cached.expires_at - now)) if cached is not None else None
        found = state.registry.channels.get(name)
        if found is None:
            return ChannelStats(cache=cache)
        return ChannelStats(len(found.subscribers), len(found.members), cache)

    async def presence_users(self, app: App, name: str) -> list[str]:
        state = self.states.get(app.id)
        found = state.registry.channels.get(name) if state is not None else None
        return list(found.members) if found is not None else []

    async def terminate_user(self, app: App, user_id: str) -> None:
        state = self.states.get(app.id)
        if state is None:
            return
        for session in list(state.users.connections(user_id)):
            self.close(session, Terminated())
