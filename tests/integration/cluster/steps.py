"""Steps the cluster tests share: SDK calls to a node, waiting for conditions, users."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pusher

from pusherd.testing import TEST_APP
from tests.integration.cluster.processes import NodeProcess
from tests.integration.js import JsClients, python_sdk

#: the app as the pusher npm SDK inside the JS driver signs for it
SDK = {"appId": TEST_APP.id, "key": TEST_APP.key, "secret": str(TEST_APP.secret)}
#: short enough to test removal, long enough for a loaded test machine
LEASE = 1.5

StartNodes = Callable[..., Awaitable[list[NodeProcess]]]


def sdk_for(node: NodeProcess) -> pusher.Pusher:
    return python_sdk(node.port, TEST_APP)


async def call(node: NodeProcess, method: str, *args: object, **kwargs: object) -> Any:
    """Call the official pusher PyPI SDK against ``node``."""
    sdk = sdk_for(node)
    return await anyio.to_thread.run_sync(lambda: getattr(sdk, method)(*args, **kwargs))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds, polling."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await anyio.sleep(0.05)


async def subscriptions(node: NodeProcess, channel: str, expected: int) -> bool:
    info = await call(node, "channel_info", channel, ["subscription_count"])
    return bool(info.get("subscription_count", 0) == expected)


async def users(node: NodeProcess, channel: str) -> list[str]:
    found = await call(node, "users_info", channel)
    return sorted(user["id"] for user in found["users"])


async def connect_user(
    js: JsClients, client: str, node: NodeProcess, user_id: str, name: str
) -> str:
    return await js.connected(
        client, TEST_APP.key, node.port, sdk=SDK, user={"id": user_id, "user_info": {"name": name}}
    )
