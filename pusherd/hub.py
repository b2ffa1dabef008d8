"""The node's hub: applies session effects to the registries and fans events out to sockets.

Fan-out serializes an event once (JSON and frame header) and writes the same bytes
to each subscriber's transport; there is no per-subscriber await, task or encoding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from pusherd.backplane.base import Backplane, ChannelEntry, Counted, Joined, MemberJoin
from pusherd.backplane.codec import Envelope, Kind
from pusherd.backplane.local import LocalBackplane
from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.channels import classify, server_to_user_id
from pusherd.protocol.errors import ConnectionRefused, Terminated
from pusherd.protocol.frames import text_frame
from pusherd.protocol.names import SERVER_TO_USER_PREFIX, EventName, WebhookName
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
from pusherd.protocol.users import ONLINE, UserRegistry, watched_change, watchlist_events
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

    __slots__ = ("app", "joining", "registry", "sessions", "shown", "users")

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = ChannelRegistry(app)
        self.users = UserRegistry(app)
        self.sessions: dict[str, Session] = {}
        #: with a shared backplane, per locally occupied presence channel: the cluster's
        #: members as this node's clients were shown them (user id -> user_info JSON), to
        #: correct them when the node restates itself after losing the cluster
        self.shown: dict[str, dict[str, str]] = {}
        #: per presence channel, the sessions waiting for the cluster's member list, with
        #: the member envelopes that arrived meanwhile (they may postdate the list)
        self.joining: dict[str, dict[Session, list[Envelope]]] = {}


class Hub:
    """Every connection and channel of this node, and the API's view of them."""

    def __init__(
        self,
        apps: AppStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_webhooks: WebhookListener | None = None,
        backplane: Backplane | None = None,
    ) -> None:
        self.apps = apps
        self.clock = clock
        self.states: dict[str, AppState] = {}
        self.connection_count = 0
        self.on_webhooks = on_webhooks
        # Traffic counts for the metrics (pusherd.metrics reads them when scraped).
        self.connections_opened = 0
        self.messages_in = 0
        self.bytes_in = 0
        self.messages_out = 0
        self.bytes_out = 0
        self.backplane: Backplane = backplane if backplane is not None else LocalBackplane()

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
        self.connections_opened += 1
        self.flush(session)

    def disconnect(self, session: Session) -> None:
        """Forget a connection: leave its channels and sign it out. Idempotent."""
        state = self.states.get(session.app.id)
        if state is None or state.sessions.get(session.socket_id) is not session:
            return
        del state.sessions[session.socket_id]
        self.connection_count -= 1
        if self.backplane.shared:
            for channel in list(session.subscriptions):
                self.leave_shared(state, session, channel)
        else:
            self.deliver(state, state.registry.leave_all(session, self.clock()))
        if self.backplane.shared and app_watches(state):
            self.sign_out_shared(state, session)
        else:
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
            if isinstance(effect, Join) and self.backplane.shared:
                self.join_shared(state, session, effect)
            elif isinstance(effect, Leave) and self.backplane.shared:
                self.leave_shared(state, session, effect.channel)
            elif isinstance(effect, Join):
                outcome = state.registry.join(
                    session, effect.channel, effect.kind, effect.member, self.clock()
                )
                self.flush(session)
                self.deliver(state, outcome)
            elif isinstance(effect, Leave):
                self.deliver(state, state.registry.leave(session, effect.channel, self.clock()))
            elif isinstance(effect, ClientEvent):
                self.relay_client_event(state, session, effect)
            elif isinstance(effect, SignIn) and self.backplane.shared and app_watches(state):
                self.sign_in_shared(state, session)
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
            frame = text_frame(message)
            self.messages_out += 1
            self.bytes_out += len(frame)
            sink.write(frame)

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
                if session.has_output():
                    self.process(session)
            counts = state.registry.flush_counts(now)
            # With a shared backplane the cluster broadcasts counts; this node's are partial.
            if not self.backplane.shared:
                self.deliver(state, counts)
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

    def fan_out(
        self, sessions: Collection[Session], frame: bytes, exclude: Session | None = None
    ) -> None:
        """Write one frame to many sockets: the hot path."""
        count = len(sessions) - (exclude is not None and exclude in sessions)
        self.messages_out += count
        self.bytes_out += count * len(frame)
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
        if self.backplane.shared:
            self.backplane.publish(
                Envelope(Kind.CHANNEL, state.app.id, event.channel, message, sender.socket_id)
            )
        webhook: dict[str, Any] = {
            "name": WebhookName.CLIENT_EVENT.value,
            "channel": event.channel,
            "event": event.event,
            "data": event.data if isinstance(event.data, str) else messages.dumps(event.data),
            "socket_id": sender.socket_id,
        }
        if event.user_id is not None:
            webhook["user_id"] = messages.user_id_text(event.user_id)
        self.emit_webhooks(state.app, [webhook])

    def emit_webhooks(self, app: App, events: list[dict[str, Any]]) -> None:
        if self.on_webhooks is not None and app.webhooks:
            self.on_webhooks(app, events)

    # The HTTP API's side (server_api.hub.Hub)

    def publish(self, app: App, publications: Sequence[Publication]) -> None:
        """Deliver API events in order; one serialization per channel."""
        state = self.state(app)
        now = self.clock()
        shared = self.backplane.shared
        for publication in publications:
            exclude = state.sessions.get(publication.socket_id) if publication.socket_id else None
            sender = publication.socket_id or ""
            name, data = publication.name, publication.data
            for channel in publication.channels:
                message = messages.serialize_event(name, data, channel)
                if channel.startswith(SERVER_TO_USER_PREFIX):
                    user_id = server_to_user_id(channel)
                    self.fan_out(state.users.connections(user_id), text_frame(message), exclude)
                    if shared:
                        self.backplane.publish(
                            Envelope(Kind.USER, app.id, user_id, message, sender)
                        )
                    continue
                cached = classify(channel).cache
                if cached:
                    state.registry.remember(channel, name, data, now)
                self.fan_out(state.registry.subscribers(channel), text_frame(message), exclude)
                if shared:
                    if cached:
                        self.backplane.remember(app.id, channel, name, data, app.cache_ttl)
                    self.backplane.publish(
                        Envelope(
                            Kind.CHANNEL,
                            app.id,
                            channel,
                            message,
                            sender,
                            cache_event=name if cached else "",
                            cache_data=data if cached else "",
                        )
                    )

    async def channels(self, app: App, prefix: str) -> dict[str, ChannelStats]:
        if self.backplane.shared:
            found = await self.backplane.channels(app.id, prefix)
            if found is not None:
                return found
        state = self.states.get(app.id)
        if state is None:
            return {}
        return {
            channel.name: ChannelStats(len(channel.subscribers), len(channel.members))
            for channel in state.registry
            if channel.name.startswith(prefix)
        }

    async def channel(self, app: App, name: str) -> ChannelStats:
        shared = await self.backplane.channel(app.id, name) if self.backplane.shared else None
        state = self.states.get(app.id)
        if state is None:
            return shared or ChannelStats()
        now = self.clock()
        cached = state.registry.cached(name, now)
        cache = (cached.data, max(0.0, cached.expires_at - now)) if cached is not None else None
        if shared is not None:
            return ChannelStats(shared.subscription_count, shared.user_count, cache)
        found = state.registry.channels.get(name)
        if found is None:
            return ChannelStats(cache=cache)
        return ChannelStats(len(found.subscribers), len(found.members), cache)

    async def presence_users(self, app: App, name: str) -> list[str]:
        if self.backplane.shared:
            users = await self.backplane.presence_users(app.id, name)
            if users is not None:
                return users
        state = self.states.get(app.id)
        found = state.registry.channels.get(name) if state is not None else None
        return list(found.members) if found is not None else []

    async def terminate_user(self, app: App, user_id: str) -> None:
        if self.backplane.shared:
            self.backplane.publish(Envelope(Kind.TERMINATE, app.id, user_id))
        state = self.states.get(app.id)
        if state is None:
            return
        for session in list(state.users.connections(user_id)):
            self.close(session, Terminated())

    # The cluster's side (pusherd.backplane.base.Node), used when the backplane is shared:
    # this node still decides its own state; the cluster decides who is first or last.

    def join_shared(self, state: AppState, session: Session, join: Join) -> None:
        """Join locally; counts, members and their broadcasts are the cluster's to decide."""
        app, channel, member = state.app, join.channel, join.member
        outcome = state.registry.join(
            session, channel, join.kind, member, self.clock(), announce=member is None
        )
        held = session.messages_to_send()
        if not outcome.joined:
            shown = state.shown.get(channel)
            if member is not None and shown is not None and channel in session.subscriptions:
                # Subscribing again: "with the current member list" (PROTOCOL.md §7.2), which is
                # the cluster's as this node's clients were shown it, not this node's alone.
                held = [messages.subscription_succeeded(channel, presence_of(shown))]
            self.write_all(session, held)
            return
        alone = self.split_decided(state, outcome)
        self.backplane.count(
            app.id,
            channel,
            1,
            count_message(app, channel, join.kind.is_presence),
            lambda counted: self.on_counted(state, channel, 1, counted, alone),
        )
        if member is None:
            self.write_all(session, held)
            return
        data = messages.member_added_data(member.raw_user_id, member.user_info)
        removed = messages.member_removed_data(member.raw_user_id)
        member_join = MemberJoin(
            app.id,
            channel,
            member.user_id,
            messages.dumps(member.user_info),
            messages.serialize_event(EventName.MEMBER_ADDED, data, channel),
            messages.serialize_event(EventName.MEMBER_REMOVED, removed, channel),
            session.socket_id,
        )
        state.joining.setdefault(channel, {})[session] = []
        self.backplane.join_member(
            member_join,
            lambda joined: self.on_member_joined(state, session, member_join, joined, held, alone),
        )

    def on_member_joined(
        self,
        state: AppState,
        session: Session,
        join: MemberJoin,
        joined: Joined | None,
        held: list[str],
        alone: Outcome,
    ) -> None:
        waiting = state.joining.get(join.channel, {})
        seen = waiting.pop(session, [])
        if not waiting:
            state.joining.pop(join.channel, None)
        found = state.registry.channels.get(join.channel)
        if found is None or session not in found.subscribers:
            return
        shown = state.shown.setdefault(join.channel, {})
        later: list[str] = []
        if joined is None:
            # Alone, show what the node knew of the cluster and its own members since.
            if join.user_id not in shown:
                self.deliver_alone(state, alone, EventName.MEMBER_ADDED)
            shown[join.user_id] = join.info
            listed = shown
        else:
            listed = joined.members
            shown.clear()
            shown.update(listed)
            # The list holds the changes made before it; the later ones follow it.
            for envelope in seen:
                if envelope.serial > joined.serial:
                    note_shown(shown, envelope)
                    if envelope.exclude != session.socket_id:
                        later.append(envelope.message)
            if joined.first:
                event = {
                    "name": WebhookName.MEMBER_ADDED.value,
                    "channel": join.channel,
                    "user_id": join.user_id,
                }
                self.emit_webhooks(state.app, [event])
        session.send(messages.subscription_succeeded(join.channel, presence_of(listed)))
        self.flush(session)
        self.write_all(session, held)
        self.write_all(session, later)

    def leave_shared(self, state: AppState, session: Session, channel: str) -> None:
        """Leave locally; the cluster says whether the member or the channel is gone."""
        if channel not in session.subscriptions:
            return
        member = session.subscriptions[channel]
        registry = state.registry
        alone = self.split_decided(state, registry.leave(session, channel, self.clock()))
        app = state.app
        found = registry.channels.get(channel)
        if found is None:
            state.shown.pop(channel, None)
        if member is not None and (found is None or member.user_id not in found.members):
            user_id = member.user_id
            self.backplane.leave_member(
                app.id,
                channel,
                user_id,
                lambda last: self.on_member_left(state, channel, user_id, last, alone),
            )
        self.backplane.count(
            app.id,
            channel,
            -1,
            count_message(app, channel, classify(channel).is_presence),
            lambda counted: self.on_counted(state, channel, -1, counted, alone),
        )

    def on_member_left(
        self, state: AppState, channel: str, user_id: str, last: bool | None, alone: Outcome
    ) -> None:
        if last is None:
            self.deliver_alone(state, alone, EventName.MEMBER_REMOVED)
            state.shown.get(channel, {}).pop(user_id, None)
        elif last:
            event = {
                "name": WebhookName.MEMBER_REMOVED.value,
                "channel": channel,
                "user_id": user_id,
            }
            self.emit_webhooks(state.app, [event])

    def on_counted(
        self,
        state: AppState,
        channel: str,
        delta: int,
        counted: Counted | None,
        alone: Outcome,
    ) -> None:
        if counted is None:
            self.deliver_alone(state, alone, EventName.SUBSCRIPTION_COUNT)
            return
        total = counted.total
        events: list[dict[str, Any]] = []
        if total == 0:
            events.append({"name": WebhookName.CHANNEL_VACATED.value, "channel": channel})
        elif total == delta:
            events.append({"name": WebhookName.CHANNEL_OCCUPIED.value, "channel": channel})
        if counted.announced:
            events.append(
                {
                    "name": WebhookName.SUBSCRIPTION_COUNT.value,
                    "channel": channel,
                    "subscription_count": total,
                }
            )
        if events:
            self.emit_webhooks(state.app, events)

    def split_decided(self, state: AppState, outcome: Outcome) -> Outcome:
        """Deliver what this node decides alone; return what the cluster decides instead.

        The returned part is delivered locally, without its webhooks, only when the cluster
        cannot be asked.
        """
        local = Outcome(webhooks=[w for w in outcome.webhooks if w["name"] not in _DECIDED])
        local.broadcasts = [b for b in outcome.broadcasts if b.event not in _DECIDED]
        self.deliver(state, local)
        decided = [b for b in outcome.broadcasts if b.event in _DECIDED]
        return Outcome(broadcasts=decided)

    def deliver_alone(self, state: AppState, alone: Outcome, event: str) -> None:
        broadcasts = [b for b in alone.broadcasts if b.event == event]
        if broadcasts:
            self.deliver(state, Outcome(broadcasts=broadcasts))

    def write_all(self, session: Session, held: list[str]) -> None:
        sink = session.sink
        for message in held:
            sink.write(text_frame(message))

    # Watchlists over the cluster: every signed-in user is a member of the app's internal
    # presence set ONLINE, so the cluster decides first and last connections (leases
    # included) and broadcasts them as watchlist frames, which each node sends to its
    # local watchers of that user.

    def sign_in_shared(self, state: AppState, session: Session) -> None:
        user = session.user
        if user is None:
            return
        first_here = state.users.register(session)
        self.flush(session)
        join = MemberJoin(
            state.app.id,
            ONLINE,
            user.id,
            "1",
            watchlist_events([user.id], []),
            watchlist_events([], [user.id]),
            session.socket_id,
        )
        state.joining.setdefault(ONLINE, {})[session] = []
        self.backplane.join_member(
            join, lambda joined: self.on_online_joined(state, session, joined, first_here)
        )

    def on_online_joined(
        self, state: AppState, session: Session, joined: Joined | None, first_here: bool
    ) -> None:
        waiting = state.joining.get(ONLINE, {})
        seen = waiting.pop(session, [])
        if not waiting:
            state.joining.pop(ONLINE, None)
        user = session.user
        if user is None or state.sessions.get(session.socket_id) is not session:
            return
        shown = state.shown.setdefault(ONLINE, {})
        users = state.users
        if joined is None:
            # Alone: what the node knew of the cluster, and its own users since.
            new = user.id not in shown
            shown[user.id] = "1"
            users.send_statuses(session, shown.keys() | users.users.keys())
            self.flush(session)
            if first_here and new:
                for watcher in users.notify(user.id, online=True, exclude=session):
                    self.flush(watcher)
            return
        shown.clear()
        shown.update(joined.members)
        users.send_statuses(session, joined.members)
        watched = set(user.watchlist)
        # The list holds the changes made before it; the later ones follow it.
        for envelope in seen:
            if envelope.serial > joined.serial:
                note_online(shown, envelope)
                change = watched_change(envelope.message)
                if (
                    change is not None
                    and change[0] in watched
                    and envelope.exclude != session.socket_id
                ):
                    session.send(envelope.message)
        self.flush(session)

    def sign_out_shared(self, state: AppState, session: Session) -> None:
        user = session.user
        if user is None or not state.users.unregister(session):
            return
        user_id = user.id
        self.backplane.leave_member(
            state.app.id, ONLINE, user_id, lambda last: self.on_online_left(state, user_id, last)
        )

    def on_online_left(self, state: AppState, user_id: str, last: bool | None) -> None:
        if last is not None or state.users.is_online(user_id):
            return
        # Alone: this node decides for its own users.
        shown = state.shown.get(ONLINE)
        if shown is not None:
            shown.pop(user_id, None)
        for watcher in state.users.notify(user_id, online=False):
            self.flush(watcher)

    def receive_online(self, state: AppState, envelope: Envelope) -> None:
        """Tell local watchers a user came online or went offline in the cluster."""
        shown = state.shown.get(ONLINE)
        if shown is not None:
            note_online(shown, envelope)
        change = watched_change(envelope.message)
        if change is None:
            return
        watchers: Collection[Session] = state.users.watchers.get(change[0], {})
        self.deliver_envelope(state, envelope, hold_for_joining(state, ONLINE, envelope, watchers))

    def correct_online(self, state: AppState, members: Mapping[str, str]) -> None:
        """After a restatement: online and offline frames for the changes missed meanwhile."""
        shown = state.shown.setdefault(ONLINE, {})
        users = state.users
        for user_id in shown.keys() - members.keys():
            if not users.is_online(user_id):
                self.fan_out(
                    list(users.watchers.get(user_id, ())),
                    text_frame(watchlist_events([], [user_id])),
                )
        for user_id in members.keys() - shown.keys():
            self.fan_out(
                list(users.watchers.get(user_id, ())), text_frame(watchlist_events([user_id], []))
            )
        shown.clear()
        shown.update(members)

    def receive_envelope(self, envelope: Envelope) -> None:
        """Deliver an event another node published, serialized once for this node."""
        if envelope.kind is Kind.SYNC:
            self.correct_shown(envelope.message)
            return
        state = self.states.get(envelope.app_id)
        if state is None:
            app = self.apps.by_id(envelope.app_id)
            if app is None or not envelope.cache_event:
                return
            state = self.state(app)
        targets: Collection[Session]
        if envelope.kind is Kind.MEMBER_ADDED or envelope.kind is Kind.MEMBER_REMOVED:
            if envelope.target == ONLINE:
                self.receive_online(state, envelope)
                return
            shown = state.shown.get(envelope.target)
            if shown is not None:
                note_shown(shown, envelope)
            subscribers = state.registry.subscribers(envelope.target)
            targets = hold_for_joining(state, envelope.target, envelope, subscribers)
        elif envelope.kind is Kind.CHANNEL:
            if envelope.cache_event:
                state.registry.remember(
                    envelope.target, envelope.cache_event, envelope.cache_data, self.clock()
                )
            targets = state.registry.subscribers(envelope.target)
        elif envelope.kind is Kind.USER:
            targets = state.users.connections(envelope.target)
        else:
            for session in list(state.users.connections(envelope.target)):
                self.close(session, Terminated())
            return
        self.deliver_envelope(state, envelope, targets)

    def deliver_envelope(
        self, state: AppState, envelope: Envelope, targets: Collection[Session]
    ) -> None:
        """Write another node's event to ``targets``, less the session it excludes."""
        if targets:
            exclude = state.sessions.get(envelope.exclude) if envelope.exclude else None
            self.fan_out(targets, text_frame(envelope.message), exclude)

    def correct_shown(self, text: str) -> None:
        """Tell local clients the member changes they missed while the cluster was lost.

        Args:
            text: the cluster's members of this node's presence channels, as JSON
                ``[[app_id, channel, {user_id: user_info JSON}], ...]``.
        """
        listed = messages.parse_json(text)
        for app_id, channel, members in listed if isinstance(listed, list) else ():
            state = self.states.get(app_id)
            if channel == ONLINE and state is not None and isinstance(members, dict):
                self.correct_online(state, members)
                continue
            shown = state.shown.get(channel) if state is not None else None
            if state is None or shown is None or not isinstance(members, dict):
                continue
            subscribers = state.registry.subscribers(channel)
            for user_id in shown.keys() - members.keys():
                data = messages.dumps({"user_id": user_id})
                message = messages.serialize_event(EventName.MEMBER_REMOVED, data, channel)
                self.fan_out(subscribers, text_frame(message))
            for user_id in members.keys() - shown.keys():
                info = messages.parse_json(members[user_id])
                data = messages.dumps({"user_id": user_id, "user_info": info})
                message = messages.serialize_event(EventName.MEMBER_ADDED, data, channel)
                self.fan_out(subscribers, text_frame(message))
            shown.clear()
            shown.update(members)

    def snapshot(self) -> list[ChannelEntry]:
        """Every locally occupied channel with its local members, to restate to the cluster."""
        entries = []
        for state in self.states.values():
            app_id = state.app.id
            for channel in state.registry:
                members = []
                for connections in channel.members.values():
                    member = next(iter(connections.values()))
                    data = messages.member_added_data(member.raw_user_id, member.user_info)
                    removed = messages.member_removed_data(member.raw_user_id)
                    members.append(
                        MemberJoin(
                            app_id,
                            channel.name,
                            member.user_id,
                            messages.dumps(member.user_info),
                            messages.serialize_event(EventName.MEMBER_ADDED, data, channel.name),
                            messages.serialize_event(
                                EventName.MEMBER_REMOVED, removed, channel.name
                            ),
                            "",
                        )
                    )
                entries.append(
                    ChannelEntry(app_id, channel.name, len(channel.subscribers), tuple(members))
                )
            if app_watches(state) and state.users.users:
                online = tuple(
                    MemberJoin(
                        app_id,
                        ONLINE,
                        user_id,
                        "1",
                        watchlist_events([user_id], []),
                        watchlist_events([], [user_id]),
                        "",
                    )
                    for user_id in state.users.users
                )
                entries.append(ChannelEntry(app_id, ONLINE, 0, online))
        return entries

    def remember_cached(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        """Keep a cache channel's last event from the cluster unless a later one is here."""
        app = self.apps.by_id(app_id)
        if app is None:
            return
        registry = self.state(app).registry
        now = self.clock()
        here = registry.cached(channel, now)
        # One app's events all live cache_ttl: the one expiring last was published last.
        if here is None or here.expires_at < now + ttl:
            registry.remember(channel, event, data, now, ttl)

    def emit_cluster_webhooks(self, app_id: str, events: list[dict[str, Any]]) -> None:
        # The internal set of online users is no channel of the app's.
        events = [event for event in events if event.get("channel") != ONLINE]
        if not events:
            return
        app = self.apps.by_id(app_id)
        if app is not None:
            self.emit_webhooks(app, events)


#: what the cluster decides in place of a node: broadcasts by event, webhooks by name
_DECIDED = frozenset(
    {
        EventName.MEMBER_ADDED,
        EventName.MEMBER_REMOVED,
        EventName.SUBSCRIPTION_COUNT,
        WebhookName.MEMBER_ADDED.value,
        WebhookName.MEMBER_REMOVED.value,
        WebhookName.SUBSCRIPTION_COUNT.value,
        WebhookName.CHANNEL_OCCUPIED.value,
        WebhookName.CHANNEL_VACATED.value,
    }
)
_COUNT_MARK = "\ue000"


def note_shown(shown: dict[str, str], envelope: Envelope) -> None:
    """Record the member a ``member_added`` or ``member_removed`` envelope shows."""
    data = messages.parse_json(messages.parse_json(envelope.message)["data"])
    user_id = str(data["user_id"])
    if envelope.kind is Kind.MEMBER_ADDED:
        shown[user_id] = messages.dumps(data.get("user_info"))
    else:
        shown.pop(user_id, None)


def app_watches(state: AppState) -> bool:
    """The app wants watchlists, which the cluster then keeps (PROTOCOL.md §12.4)."""
    app = state.app
    return app.enable_watchlist and app.enable_user_authentication


def note_online(shown: dict[str, str], envelope: Envelope) -> None:
    """Record the user an ONLINE member envelope shows coming or going."""
    change = watched_change(envelope.message)
    if change is None:
        return
    if envelope.kind is Kind.MEMBER_ADDED:
        shown[change[0]] = "1"
    else:
        shown.pop(change[0], None)


def presence_of(listed: Mapping[str, str]) -> dict[str, Any]:
    """The ``presence`` object of §8.2 from user ids and their ``user_info`` as JSON."""
    members = {user: messages.parse_json(info) for user, info in listed.items()}
    return {"ids": list(members), "hash": members, "count": len(members)}


def count_message(app: App, channel: str, presence: bool) -> tuple[str, str] | None:
    """The ``subscription_count`` message split around the count, if the app wants one (§10)."""
    if not app.enable_subscription_count or presence:
        return None
    data = messages.dumps({"subscription_count": 0}).replace("0", _COUNT_MARK)
    head, tail = messages.serialize_event(EventName.SUBSCRIPTION_COUNT, data, channel).split(
        _COUNT_MARK
    )
    return head, tail


def hold_for_joining(
    state: AppState, name: str, envelope: Envelope, targets: Collection[Session]
) -> Collection[Session]:
    """The ``targets`` to give a member event now: sessions whose member list (or initial
    watchlist) is still on its way get it after that list, so they are left out here."""
    waiting = state.joining.get(name)
    if not waiting:
        return targets
    for seen in waiting.values():
        seen.append(envelope)
    return [session for session in targets if session not in waiting]
