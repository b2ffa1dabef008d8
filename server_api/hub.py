"""What the HTTP API needs from the server: apps, publishing and channel state.

The server's hub implements :class:`Hub`; tests pass a fake. Queries are async
because in a cluster they ask the other nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pusherd.protocol.app import App


@dataclass(frozen=True, slots=True)
class Publication:
    """One event accepted by the API, to deliver to one or more channels."""

    channels: tuple[str, ...]
    name: str
    data: str
    socket_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """A channel's counts as the API reports them."""

    subscription_count: int = 0
    #: distinct users; meaningful for presence channels only
    user_count: int = 0
    #: the cached data string and seconds left, for cache channels with an entry
    cache: tuple[str, float] | None = None

    @property
    def occupied(self) -> bool:
        return self.subscription_count > 0


class AppStore(Protocol):
    """Looks apps up; lookups are in memory and synchronous."""

    def by_id(self, app_id: str) -> App | None: ...

    def by_key(self, key: str) -> App | None: ...


class Hub(Protocol):
    """The server side of every API call."""

    def publish(self, app: App, publications: Sequence[Publication]) -> None:
        """Accept events for delivery, in order; returns before the sockets are written."""

    async def channels(self, app: App, prefix: str) -> dict[str, ChannelStats]:
        """Occupied channels whose name starts with ``prefix`` (never ``#server-to-user-``)."""

    async def channel(self, app: App, name: str) -> ChannelStats:
        """One channel's state (zeros when unoccupied)."""

    async def presence_users(self, app: App, name: str) -> list[str]:
        """Distinct user ids in a presence channel."""

    async def terminate_user(self, app: App, user_id: str) -> None:
        """Close every connection signed in as ``user_id`` with 4009."""
