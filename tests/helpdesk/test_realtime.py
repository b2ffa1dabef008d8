"""Realtime through pusherd: pusher-js under Node receives what the API publishes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from examples.helpdesk.config import PusherSettings, Settings
from examples.helpdesk.db import utcnow
from examples.helpdesk.pusher_api import PusherApiError
from tests.helpdesk.conftest import PASSWORD, PEOPLE, add_people, free_port, run_sync
from tests.helpdesk.node_client import NodeListener
from tests.helpdesk.stack import Stack
from tests.services import require_node

pytestmark = pytest.mark.node


class Live:
    """The running stack, an HTTP client, and the people's tokens."""

    def __init__(self, stack: Stack, ids: dict[str, int], node_modules: Path) -> None:
        self.stack = stack
        self.ids = ids
        self.node_modules = node_modules
        self.http = httpx.Client(base_url=stack.base_url, timeout=30)
        self.tokens = {
            who: self.http.post("/api/login", json={"email": email, "password": PASSWORD}).json()[
                "token"
            ]
            for who, (email, _, _) in PEOPLE.items()
        }
        self.listeners: list[NodeListener] = []

    def ok(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(
            method, path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def listen(self, who: str, *channels: str) -> NodeListener:
        pusher = self.stack.settings.pusher
        listener = NodeListener(
            self.node_modules,
            {
                "baseUrl": self.stack.base_url,
                "token": self.tokens[who],
                "pusher": {"key": pusher.key, "wsHost": pusher.host, "wsPort": pusher.port},
                "channels": list(channels),
            },
        )
        self.listeners.append(listener)
        return listener


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    node_modules = require_node()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}",
        pusher=PusherSettings(port=free_port()),
        auto_assign=False,
        publish_retry_max=0.5,
    )
    ids = run_sync(add_people(settings.database_url, utcnow()))
    with Stack(settings) as stack:
        live = Live(stack, ids, node_modules)
        try:
            yield live
        finally:
            for listener in live.listeners:
                listener.close()
            live.http.close()


def open_trade(live: Live) -> int:
    return live.ok(
        "buyer",
        "POST",
        "/api/conversations",
        json={"kind": "trade", "subject": "Lamp", "counterpart_id": live.ids["seller"]},
    )["id"]


def test_a_message_posted_over_the_api_reaches_the_other_participant(live: Live) -> None:
    cid = open_trade(live)
    channel = f"private-conversation.{cid}"
    seller = live.listen("seller", channel)
    seller.wait_for(lambda line: line["type"] == "subscribed")
    live.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "Still for sale?"})
    got = seller.wait_for(lambda line: line["type"] == "event")
    assert got["event"] == "App\\Events\\MessageSent" and got["channel"] == channel
    applied = seller.wait_for(lambda line: line["type"] == "applied")
    assert applied["data"]["message"]["body"] == "Still for sale?"
    assert applied["data"]["message"]["sender_id"] == live.ids["buyer"]


def test_a_non_participant_is_refused_the_conversation_channel(live: Live) -> None:
    cid = open_trade(live)
    outsider = live.listen("buyer2", f"private-conversation.{cid}")
    refused = outsider.wait_for(lambda line: line["type"] in ("refused", "subscribed"))
    assert refused == {"type": "refused", "channel": f"private-conversation.{cid}", "status": 403}


def test_events_posted_while_pusherd_is_down_arrive_exactly_once_in_order(live: Live) -> None:
    cid = open_trade(live)
    channel = f"private-conversation.{cid}"
    seller = live.listen("seller", channel)
    seller.wait_for(lambda line: line["type"] == "subscribed")
    live.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "before"})
    seller.wait_for(lambda line: line["type"] == "applied" and line["seq"] == 1)

    live.stack.stop_pusherd()
    bodies = [f"while down {n}" for n in range(6)]
    for body in bodies:
        live.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": body})
    live.stack.start_pusherd()

    seller.wait_for(lambda line: line["type"] == "applied" and line["seq"] == 7, timeout=90)
    lines = seller.drain(1.0)
    applied = [line for line in lines if line["type"] == "applied"]
    assert [line["seq"] for line in applied] == list(range(1, 8))
    assert [line["data"]["message"]["body"] for line in applied] == ["before", *bodies]
    # pusherd itself delivered each resent event at most once.
    live_seqs = [line["seq"] for line in lines if line["type"] == "event"]
    assert len(live_seqs) == len(set(live_seqs))


def test_events_held_back_until_the_client_is_back_are_delivered_live_once_in_order(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same outage, with the outbox held back until the client has reconnected: the client
    catches up from the API, then pusherd delivers every held event live, once, in order, and
    the client applies none of them twice."""
    cid = open_trade(live)
    channel = f"private-conversation.{cid}"
    seller = live.listen("seller", channel)
    seller.wait_for(lambda line: line["type"] == "subscribed")
    live.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "before"})
    seller.wait_for(lambda line: line["type"] == "applied" and line["seq"] == 1)

    api = live.stack.app.state.pusher_api
    trigger = api.trigger
    gate = threading.Event()

    async def held(*args: Any, **kwargs: Any) -> None:
        if not gate.is_set():
            raise PusherApiError("held back by the test")
        await trigger(*args, **kwargs)

    monkeypatch.setattr(api, "trigger", held)
    live.stack.stop_pusherd()
    seller.wait_for(lambda line: line["type"] == "state" and line["state"] != "connected")
    bodies = [f"while down {n}" for n in range(6)]
    for body in bodies:
        live.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": body})
    live.stack.start_pusherd()
    seller.wait_count(lambda line: line["type"] == "subscribed", 2, timeout=90)
    # Caught up from the API while the outbox is still held.
    seller.wait_for(lambda line: line["type"] == "applied" and line["seq"] == 7)
    gate.set()

    live_events = seller.wait_count(lambda line: line["type"] == "event", 7, timeout=90)
    lines = seller.drain(1.0)
    assert [line["seq"] for line in live_events] == list(range(1, 8))
    assert [line["seq"] for line in lines if line["type"] == "event"] == list(range(1, 8))
    applied = [line for line in lines if line["type"] == "applied"]
    assert [line["seq"] for line in applied] == list(range(1, 8))
    assert [line["data"]["message"]["body"] for line in applied] == ["before", *bodies]


def test_automatic_assignment_picks_the_least_loaded_agent_online(live: Live) -> None:
    """Both agents are online (on the presence channel); the one with fewer active tickets gets
    the ticket and is told on their own channel. An agent offline is never picked."""
    agent2_channel = f"private-App.Models.User.{live.ids['agent2']}"
    busy = live.listen("agent", "presence-online")
    free = live.listen("agent2", "presence-online", agent2_channel)
    busy.wait_for(lambda line: line["type"] == "subscribed")
    free.wait_count(lambda line: line["type"] == "subscribed", 2)

    def open_ticket(subject: str) -> int:
        return live.ok(
            "buyer",
            "POST",
            "/api/tickets",
            json={
                "subject": subject,
                "category": "order",
                "priority": "normal",
                "description": "d",
            },
        )["id"]

    first = open_ticket("first")
    live.ok("agent", "POST", f"/api/tickets/{first}/assign", json={"agent_id": live.ids["agent"]})
    second = open_ticket("second")
    answer = live.ok("agent", "POST", f"/api/tickets/{second}/assign", json={"auto": True})
    assert answer["assignee"]["id"] == live.ids["agent2"]
    told = free.wait_for(
        lambda line: (
            line["type"] == "applied"
            and line["channel"] == agent2_channel
            and line["event"] == "App\\Events\\TicketAssigned"
        )
    )
    assert told["data"]["ticket"]["id"] == second

    # With agent2 gone, the busier agent is the only one online, so gets the next one.
    free.close()
    live.listeners.remove(free)
    third = open_ticket("third")
    deadline = time.monotonic() + 60
    while True:
        answer = live.ok("agent", "POST", f"/api/tickets/{third}/assign", json={"auto": True})
        if answer["assignee"]["id"] == live.ids["agent"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # pusherd has not yet seen agent2's socket close
    assert answer["assignee"]["id"] == live.ids["agent"]
