"""The backplane interface: what a node asks of its cluster, and what the cluster asks of it.

A node's hub keeps deciding everything local. It calls a :class:`Backplane` for what
crosses nodes: envelopes to deliver elsewhere, channel and presence counts kept
cluster-wide, and queries over them. Two implementations exist, one per module:
:mod:`pusherd.backplane.local` (a single node; no service) and
:mod:`pusherd.backplane.redis`. Nothing outside them knows which one runs; the hub
only reads :attr:`Backplane.shared` to know whether the cluster or itself decides.

Answers arrive through callbacks, in the order the calls were made; a callback given
``None`` means the cluster could not be asked and the node decides alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pusherd.backplane.codec import Envelope
from server_api.hub import ChannelStats


@dataclass(frozen=True, slots=True)
class MemberJoin:
    """A presence member to add on this node, with the frames the cluster may broadcast."""

    app_id: str
    channel: str
    user_id: str
    #: the member's ``user_info`` as JSON text
    info: str
    #: the ``member_added`` message, broadcast only if the user is new to the cluster
    added: str
    #: the ``member_removed`` message, kept for whichever node sees the user leave last
    removed: str
    #: the joining connection, not to be told about itself
    socket_id: str


@dataclass(frozen=True, slots=True)
class Joined:
    """The cluster's answer to a :class:`MemberJoin`."""

    #: the user had no connection anywhere in the cluster before
    first: bool
    #: every member of the channel in the cluster: user id -> ``user_info`` JSON text
    members: dict[str, str]
    #: the channel's member changes so far: member envelopes with a higher
    #: :attr:`~pusherd.backplane.codec.Envelope.serial` are not in :attr:`members` yet
    serial: int = 0


@dataclass(frozen=True, slots=True)
class Counted:
    """The cluster's answer to a change of a channel's subscriptions."""

    #: the channel's subscriptions in the whole cluster
    total: int
    #: its ``subscription_count`` message went out now (not held back by the throttle)
    announced: bool = False


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    """One channel's local state, as a resynchronization restates it."""

    app_id: str
    channel: str
    subscribers: int
    #: presence: the users connected here, each with its :class:`MemberJoin`
    members: tuple[MemberJoin, ...] = ()


#: webhook events of one app decided by the cluster: (app id, events)
WebhookSink = Callable[[str, list[dict[str, Any]]], None]


class Node(Protocol):
    """What the backplane asks of the node it serves (the hub)."""

    def receive_envelope(self, envelope: Envelope) -> None:
        """Deliver an envelope from another node (or the cluster) to local connections."""

    def snapshot(self) -> Iterable[ChannelEntry]:
        """Every locally occupied channel, to restate after the cluster was unreachable."""

    def emit_cluster_webhooks(self, app_id: str, events: list[dict[str, Any]]) -> None:
        """Send webhook events the cluster decided (a dead node's members, vacated channels)."""

    def remember_cached(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        """Keep a cache channel's last event, published before this node linked, ``ttl`` s more."""


class Backplane(Protocol):
    """A node's link to the rest of its cluster."""

    #: True when other nodes share the channels: the cluster decides presence and counts
    shared: bool

    @property
    def connected(self) -> bool:
        """False while the cluster is unreachable; the node then serves its clients alone."""

    async def start(self, node: Node) -> None:
        """Connect and begin receiving envelopes for ``node``."""

    async def stop(self) -> None:
        """Leave the cluster cleanly: this node's members and counts are withdrawn."""

    def publish(self, envelope: Envelope) -> None:
        """Send an envelope to every other node, in call order; never blocks."""

    def remember(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        """Keep a cache channel's last event ``ttl`` seconds for nodes that link later."""

    def count(
        self,
        app_id: str,
        channel: str,
        delta: int,
        count_message: tuple[str, str] | None,
        on_done: Callable[[Counted | None], None],
    ) -> None:
        """Add ``delta`` to a channel's cluster-wide subscription count.

        Args:
            count_message: the ``subscription_count`` message split around the count,
                broadcast with the new total (throttled as on one node, §10); None when
                the app does not want it.
            on_done: called with the new total, or None when the cluster was unreachable.
        """

    def join_member(self, join: MemberJoin, on_done: Callable[[Joined | None], None]) -> None:
        """Add a presence member on this node; ``member_added`` goes out if it is new."""

    def leave_member(
        self, app_id: str, channel: str, user_id: str, on_done: Callable[[bool | None], None]
    ) -> None:
        """Remove this node's last connection of a member; ``on_done(True)`` if it left the cluster."""

    async def channels(self, app_id: str, prefix: str) -> dict[str, ChannelStats] | None:
        """Cluster-wide occupied channels, or None when the cluster is unreachable."""

    async def channel(self, app_id: str, name: str) -> ChannelStats | None:
        """One channel's cluster-wide counts, or None when the cluster is unreachable."""

    async def presence_users(self, app_id: str, name: str) -> list[str] | None:
        """A presence channel's users in the whole cluster, or None when unreachable."""
