"""Watchlists see the whole cluster: online on a user's first connection anywhere, offline on its last."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest

from pusherd.testing import TEST_APP
from tests.integration.cluster.processes import NodeProcess, RedisProxy
from tests.integration.cluster.steps import LEASE, SDK, StartNodes, call, eventually
from tests.integration.js import JsClients
from tests.integration.receiver import Receiver

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.node]

WATCHING = {"PUSHERD_APP_ENABLE_WATCHLIST": "true"}
#: removal takes up to 4/3 of a lease; the rest is slack for a loaded machine
REMOVAL_BOUND = LEASE * 4 / 3 + 3.0


async def sign_in(js: JsClients, client: str, node: NodeProcess, user: dict[str, Any]) -> None:
    await js.connected(client, TEST_APP.key, node.port, sdk=SDK, user=user)
    await js.signed_in(client)
    if user.get("watchlist"):
        # Its initial list follows the cluster's answer: the cluster now counts the user in.
        await js.wait_for(lambda r: r["type"] == "watchlist" and r["client"] == client)


def watchlist(js: JsClients, client: str) -> list[tuple[str, list[str]]]:
    return [
        (r["name"], r["data"]["user_ids"])
        for r in js.reports
        if r["type"] == "watchlist" and r["client"] == client
    ]


async def shown(
    js: JsClients, client: str, expected: list[tuple[str, list[str]]], timeout: float = 10.0
) -> None:
    """Wait until ``client`` was told exactly ``expected``, in order."""

    async def check() -> bool:
        return watchlist(js, client) == expected

    await eventually(check, timeout)


async def test_a_watcher_sees_a_user_on_another_node_come_and_go(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2, env=WATCHING)
    await sign_in(js, "watcher", a, {"id": "1", "watchlist": ["7", "8"]})
    told = [("offline", ["7", "8"])]
    await shown(js, "watcher", told)

    await sign_in(js, "seven", b, {"id": "7"})
    told.append(("online", ["7"]))
    await shown(js, "watcher", told)
    await js.send("disconnect", "seven")
    told.append(("offline", ["7"]))
    await shown(js, "watcher", told)
    await anyio.sleep(0.3)
    assert watchlist(js, "watcher") == told


async def test_the_initial_list_counts_users_online_on_other_nodes(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2, env=WATCHING)
    await sign_in(js, "seven", b, {"id": "7", "watchlist": ["9"]})
    await sign_in(js, "watcher", a, {"id": "1", "watchlist": ["7", "8"]})

    await shown(js, "watcher", [("online", ["7"]), ("offline", ["8"])])
    await anyio.sleep(0.3)
    assert watchlist(js, "watcher") == [("online", ["7"]), ("offline", ["8"])]


async def test_two_tabs_on_two_nodes_are_one_user(nodes: StartNodes, js: JsClients) -> None:
    a, b, c = await nodes(3, env=WATCHING)
    await sign_in(js, "watcher", a, {"id": "1", "watchlist": ["7"]})
    told = [("offline", ["7"])]
    await shown(js, "watcher", told)
    await sign_in(js, "tab-b", b, {"id": "7"})
    told.append(("online", ["7"]))
    await shown(js, "watcher", told)
    await sign_in(js, "tab-c", c, {"id": "7", "watchlist": ["9"]})

    await js.send("disconnect", "tab-b")
    # The second tab's sign-in and the first one's closing say nothing.
    await anyio.sleep(0.5)
    assert watchlist(js, "watcher") == told
    await js.send("disconnect", "tab-c")
    told.append(("offline", ["7"]))
    await shown(js, "watcher", told)
    await anyio.sleep(0.3)
    assert watchlist(js, "watcher") == told


async def test_a_killed_node_takes_its_users_offline_within_the_lease(
    nodes: StartNodes, js: JsClients
) -> None:
    survivor, victim = await nodes(2, env=WATCHING)
    await sign_in(js, "watcher", survivor, {"id": "1", "watchlist": ["7"]})
    await sign_in(js, "seven", victim, {"id": "7"})
    told = [("offline", ["7"]), ("online", ["7"])]
    await shown(js, "watcher", told)

    victim.kill()
    killed_at = time.monotonic()
    told.append(("offline", ["7"]))
    await shown(js, "watcher", told, REMOVAL_BOUND)
    print(f"offline {time.monotonic() - killed_at:.2f}s after SIGKILL (lease {LEASE}s)")
    await anyio.sleep(0.3)
    assert watchlist(js, "watcher") == told


async def test_a_node_cut_off_from_redis_catches_its_watchers_up_when_it_returns(
    nodes: StartNodes, js: JsClients
) -> None:
    async with Receiver() as receiver:
        hooks = [{"url": receiver.url, "event_types": ["member_added", "member_removed"]}]
        env = {
            **WATCHING,
            "PUSHERD_APP_WEBHOOKS": json.dumps(hooks),
            "PUSHERD_WEBHOOK_DELAY": "0",
        }
        async with RedisProxy() as proxy:
            (a,) = await nodes(1, url=proxy.url, env=env)
            (b,) = await nodes(1, env=env)
            await sign_in(js, "one", a, {"id": "1", "watchlist": ["7"]})
            await sign_in(js, "seven", b, {"id": "7", "watchlist": ["1"]})
            told_one = [("offline", ["7"]), ("online", ["7"])]
            told_seven = [("online", ["1"])]
            await shown(js, "one", told_one)
            await shown(js, "seven", told_seven)
            # The internal set of online users is no channel of the app.
            assert await call(b, "channels_info") == {"channels": {}}

            proxy.cut("reset")
            # The others cannot tell a cut-off node from a dead one: its users go offline.
            told_seven.append(("offline", ["1"]))
            await shown(js, "seven", told_seven, REMOVAL_BOUND)
            # Meanwhile a cannot hear that 7 leaves.
            await js.send("disconnect", "seven")
            await sign_in(js, "watcher", b, {"id": "2", "watchlist": ["1"]})
            await shown(js, "watcher", [("offline", ["1"])])

            proxy.restore()
            await eventually(a.ready)
            told_one.append(("offline", ["7"]))
            await shown(js, "one", told_one)
            await shown(js, "watcher", [("offline", ["1"]), ("online", ["1"])])
            await anyio.sleep(0.3)
            assert watchlist(js, "one") == told_one
        await anyio.sleep(0.5)
        assert [e for d in receiver.delivered for e in d.events] == []
