"""Which connections are in which channels of one app, and what joining or leaving says.

Shared-state decisions stay pure: :meth:`ChannelRegistry.join` and
:meth:`ChannelRegistry.leave` update both the registry and the session, queue the
frames meant for that session on it, and return the frames to broadcast and the
webhook events to send; the hub delivers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pusherd.protocol import messages
from pusherd.protocol.app import App
from pusherd.protocol.channels import ChannelKind
from pusherd.protocol.errors import ErrorCode, SubscriptionError, limit_reached
from pusherd.protocol.names import EventName, WebhookName
from pusherd.protocol.session import Member, Session

#: "for channels with more than 100 connections, send at most once per 5 s" (§10)
COUNT_THROTTLE_ABOVE = 100
COUNT_THROTTLE_SECONDS = 5.0

Webhook = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A frame for every subscriber of ``channel`` except ``exclude``."""

    channel: str
    message: str
    exclude: Session | None = None
    #: the event it carries, so a cluster can tell the broadcasts it decides itself
    event: str = ""


@dataclass(slots=True)
class Outcome:
    """What a join or leave asks the hub to deliver."""

    broadcasts: list[Broadcast] = field(default_factory=list)
    webhooks: list[Webhook] = field(default_factory=list)
    #: the session is now in the channel for the first time
    joined: bool = False


@dataclass(slots=True)
class CachedEvent:
    event: str
    data: str
    expires_at: float


class Channel:
    """One occupied channel."""

    __slots__ = ("count_dirty", "count_sent_at", "kind", "members", "name", "subscribers")

    def __init__(self, name: str, kind: ChannelKind) -> None:
        self.name = name
        self.kind = kind
        #: an ordered set of sessions
        self.subscribers: dict[Session, None] = {}
        #: presence: user id -> that user's connections in join order, with their member
        self.members: dict[str, dict[Session, Member]] = {}
        self.count_sent_at = float("-inf")
        self.count_dirty = False

    def presence(self) -> dict[str, Any]:
        """The ``presence`` object of §8.2; each user's info from its earliest connection."""
        hash_: dict[str, Any] = {}
        for user_id, connections in self.members.items():
            hash_[user_id] = next(iter(connections.values())).user_info
        return {"ids": list(hash_), "hash": hash_, "count": len(hash_)}


class ChannelRegistry:
    """The channels of one app on this node."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.channels: dict[str, Channel] = {}
        self.cache: dict[str, CachedEvent] = {}

    def __iter__(self) -> Iterator[Channel]:
        return iter(self.channels.values())

    def subscribers(self, channel: str) -> dict[Session, None]:
        """The channel's sessions (empty when unoccupied); do not mutate."""
        found = self.channels.get(channel)
        return found.subscribers if found is not None else _EMPTY

    def join(
        self,
        session: Session,
        name: str,
        kind: ChannelKind,
        member: Member | None,
        now: float,
        *,
        announce: bool = True,
    ) -> Outcome:
        """Add ``session`` to a channel, following §7.2 steps 3-8.

        With ``announce`` false, a session that joins is not sent ``subscription_succeeded``:
        the caller sends it, listing the members of every node of a cluster.
        """
        outcome = Outcome()
        channel = self.channels.get(name)
        if channel is not None and session in channel.subscribers:
            # "Subscribing again: no state change, reply with subscription_succeeded again"
            session.send(self._succeeded(channel))
            return outcome
        if member is not None:
            refusal = self._check_member(channel, member)
            if refusal is not None:
                session.send(refusal.to_message(name))
                return outcome
        if channel is None:
            channel = self.channels[name] = Channel(name, kind)
            outcome.webhooks.append({"name": WebhookName.CHANNEL_OCCUPIED.value, "channel": name})
        channel.subscribers[session] = None
        session.subscriptions[name] = member
        if kind.authorizes_connection:
            session.authorized = True
        outcome.joined = True
        if member is not None:
            connections = channel.members.get(member.user_id)
            if connections is None:
                channel.members[member.user_id] = {session: member}
                data = messages.member_added_data(member.raw_user_id, member.user_info)
                outcome.broadcasts.append(
                    Broadcast(
                        name,
                        messages.serialize_event(EventName.MEMBER_ADDED, data, name),
                        session,
                        EventName.MEMBER_ADDED,
                    )
                )
                outcome.webhooks.append(
                    {
                        "name": WebhookName.MEMBER_ADDED.value,
                        "channel": name,
                        "user_id": member.user_id,
                    }
                )
            else:
                connections[session] = member
        if announce:
            session.send(self._succeeded(channel))
        if kind.cache:
            cached = self.cached(name, now)
            if cached is not None:
                session.send(messages.serialize_event(cached.event, cached.data, name))
            else:
                session.send(messages.serialize_event(EventName.CACHE_MISS, None, name))
                outcome.webhooks.append({"name": WebhookName.CACHE_MISS.value, "channel": name})
        self._count_changed(channel, now, outcome)
        return outcome

    def _check_member(self, channel: Channel | None, member: Member) -> SubscriptionError | None:
        """Presence limits, in §7.2 step 3's order: member count, user id length, user_info."""
        app = self.app
        # "The member limit counts distinct user ids: a new connection of a user already
        # in the channel is never refused by it."
        if (
            channel is not None
            and member.user_id not in channel.members
            and len(channel.members) >= app.limit_presence_members
        ):
            return limit_reached(
                "The maximum members per presence channel limit was reached",
                ErrorCode.OVER_CAPACITY,
            )
        if len(member.user_id) > app.limit_user_id_length:
            return limit_reached(
                f"The user id is longer than the allowed {app.limit_user_id_length} characters.",
                ErrorCode.UNAUTHORIZED,
            )
        # "UTF-8 of user_info serialised as compact JSON" (LIMITS.md): a string counts its quotes.
        if (
            member.user_info is not None
            and len(messages.dumps(member.user_info).encode()) > app.limit_user_info_bytes
        ):
            return limit_reached(
                f"The maximum size for a channel member is {_size_text(app.limit_user_info_bytes)}.",
                ErrorCode.CLIENT_EVENT_REJECTED,
            )
        return None

    def leave(self, session: Session, name: str, now: float) -> Outcome:
        """Remove ``session`` from a channel (§7.5); unknown pairs are ignored."""
        outcome = Outcome()
        channel = self.channels.get(name)
        if channel is None or session not in channel.subscribers:
            return outcome
        del channel.subscribers[session]
        member = session.subscriptions.pop(name, None)
        if member is not None:
            connections = channel.members[member.user_id]
            del connections[session]
            if not connections:
                del channel.members[member.user_id]
                data = messages.member_removed_data(member.raw_user_id)
                outcome.broadcasts.append(
                    Broadcast(
                        name,
                        messages.serialize_event(EventName.MEMBER_REMOVED, data, name),
                        event=EventName.MEMBER_REMOVED,
                    )
                )
                outcome.webhooks.append(
                    {
                        "name": WebhookName.MEMBER_REMOVED.value,
                        "channel": name,
                        "user_id": member.user_id,
                    }
                )
        if not channel.subscribers:
            del self.channels[name]
            outcome.webhooks.append({"name": WebhookName.CHANNEL_VACATED.value, "channel": name})
        else:
            self._count_changed(channel, now, outcome)
        return outcome

    def leave_all(self, session: Session, now: float) -> Outcome:
        """Remove a closed connection from every channel it was in."""
        total = Outcome()
        for name in list(session.subscriptions):
            outcome = self.leave(session, name, now)
            total.broadcasts += outcome.broadcasts
            total.webhooks += outcome.webhooks
        return total

    # Cache channels (§9.2)

    def remember(
        self, channel: str, event: str, data: str, now: float, ttl: float | None = None
    ) -> None:
        """Keep an API-published event as the channel's cached event.

        ``ttl`` is the seconds it has left when it was published elsewhere; by default
        the app's ``cache_ttl``.
        """
        expires_at = now + (self.app.cache_ttl if ttl is None else ttl)
        self.cache[channel] = CachedEvent(event, data, expires_at)

    def cached(self, channel: str, now: float) -> CachedEvent | None:
        entry = self.cache.get(channel)
        if entry is not None and entry.expires_at <= now:
            del self.cache[channel]
            return None
        return entry

    def expire(self, now: float) -> None:
        """Forget every expired cached event."""
        for name in [n for n, e in self.cache.items() if e.expires_at <= now]:
            del self.cache[name]

    # Subscription counts (§10)

    def flush_counts(self, now: float) -> Outcome:
        """Send the counts held back by the throttle whose 5 s have passed."""
        outcome = Outcome()
        for channel in self.channels.values():
            if channel.count_dirty and now - channel.count_sent_at >= COUNT_THROTTLE_SECONDS:
                self._send_count(channel, now, outcome)
        return outcome

    def _count_changed(self, channel: Channel, now: float, outcome: Outcome) -> None:
        if not self.app.enable_subscription_count or channel.kind.is_presence:
            return
        if (
            len(channel.subscribers) > COUNT_THROTTLE_ABOVE
            and now - channel.count_sent_at < COUNT_THROTTLE_SECONDS
        ):
            channel.count_dirty = True
            return
        self._send_count(channel, now, outcome)

    def _send_count(self, channel: Channel, now: float, outcome: Outcome) -> None:
        count = len(channel.subscribers)
        channel.count_sent_at = now
        channel.count_dirty = False
        data = messages.dumps({"subscription_count": count})
        outcome.broadcasts.append(
            Broadcast(
                channel.name,
                messages.serialize_event(EventName.SUBSCRIPTION_COUNT, data, channel.name),
                event=EventName.SUBSCRIPTION_COUNT,
            )
        )
        outcome.webhooks.append(
            {
                "name": WebhookName.SUBSCRIPTION_COUNT.value,
                "channel": channel.name,
                "subscription_count": count,
            }
        )

    def _succeeded(self, channel: Channel) -> str:
        presence = channel.presence() if channel.kind.is_presence else None
        return messages.subscription_succeeded(channel.name, presence)


def _size_text(limit: int) -> str:
    return f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit} bytes"


_EMPTY: dict[Session, None] = {}
