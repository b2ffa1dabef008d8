"""The single-node backplane: no other node exists, so the node decides everything itself.

It is the default and costs nothing: the hub reads :attr:`LocalBackplane.shared` and never
calls the rest on its hot path.
"""

from __future__ import annotations

from collections.abc import Callable

from pusherd.backplane.base import Counted, Joined, MemberJoin, Node
from pusherd.backplane.codec import Envelope
from server_api.hub import ChannelStats


class LocalBackplane:
    """A cluster of one."""

    shared = False

    @property
    def connected(self) -> bool:
        return True

    async def start(self, node: Node) -> None:
        pass

    async def stop(self) -> None:
        pass

    def publish(self, envelope: Envelope) -> None:
        pass

    def remember(self, app_id: str, channel: str, event: str, data: str, ttl: float) -> None:
        pass

    def count(
        self,
        app_id: str,
        channel: str,
        delta: int,
        count_message: tuple[str, str] | None,
        on_done: Callable[[Counted | None], None],
    ) -> None:
        on_done(None)

    def join_member(self, join: MemberJoin, on_done: Callable[[Joined | None], None]) -> None:
        on_done(None)

    def leave_member(
        self, app_id: str, channel: str, user_id: str, on_done: Callable[[bool | None], None]
    ) -> None:
        on_done(None)

    async def channels(self, app_id: str, prefix: str) -> dict[str, ChannelStats] | None:
        return None

    async def channel(self, app_id: str, name: str) -> ChannelStats | None:
        return None

    async def presence_users(self, app_id: str, name: str) -> list[str] | None:
        return None
