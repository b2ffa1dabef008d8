"""Running pusherd inside the helpdesk's process, serving the helpdesk's app on embedded defaults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from examples.helpdesk.config import PusherSettings
from pusherd.config import Settings as PusherdSettings
from pusherd.node import Node
from pusherd.protocol.app import App, Secret


def pusherd_app(pusher: PusherSettings) -> App:
    """The pusherd app the helpdesk publishes as; client events carry the typing whispers."""
    return App(
        id=pusher.app_id,
        key=pusher.key,
        secret=Secret(pusher.secret),
        name="helpdesk",
        enable_client_events=True,
        enable_user_authentication=True,
    )


@asynccontextmanager
async def embedded_pusherd(pusher: PusherSettings, **settings: object) -> AsyncIterator[Node]:
    """Start a pusherd node on ``pusher.host:pusher.port`` for the helpdesk; stop it on exit.

    Args:
        pusher: where to listen and which app to serve.
        **settings: other :class:`pusherd.config.Settings` fields.
    """
    node = Node(
        PusherdSettings(apps=(pusherd_app(pusher),), host=pusher.host, port=pusher.port, **settings)  # type: ignore[arg-type]
    )
    await node.start()
    try:
        yield node
    finally:
        await node.stop()
