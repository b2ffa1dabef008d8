"""The webhooks a node sends for the cluster changes Redis reports (REAP, RESYNC)."""

from __future__ import annotations

from typing import Any

import pytest

from pusherd.backplane.redis import RedisBackplane


class Recorder:
    def __init__(self) -> None:
        self.webhooks: list[tuple[str, list[dict[str, Any]]]] = []

    def emit_cluster_webhooks(self, app_id: str, events: list[dict[str, Any]]) -> None:
        self.webhooks.append((app_id, events))


@pytest.mark.anyio
async def test_member_webhooks_name_the_user_even_when_its_id_is_empty() -> None:
    # Nothing connects before start(); the port is never dialled.
    backplane = RedisBackplane("redis://127.0.0.1:9")
    recorder = Recorder()
    backplane.node = recorder  # type: ignore[assignment]

    backplane._changed(
        [
            (b"1", b"member_removed", b"presence-a", b""),
            (b"1", b"member_added", b"presence-a", b"7"),
            (b"1", b"channel_vacated", b"presence-a", b""),
        ]
    )

    assert recorder.webhooks == [
        (
            "1",
            [
                {"name": "member_removed", "channel": "presence-a", "user_id": ""},
                {"name": "member_added", "channel": "presence-a", "user_id": "7"},
                {"name": "channel_vacated", "channel": "presence-a"},
            ],
        )
    ]
    await backplane.commands.aclose()
    await backplane.subscriber.aclose()
