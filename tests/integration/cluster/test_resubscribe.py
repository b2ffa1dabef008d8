"""Subscribing again on a cluster: the same answer as the first, the whole cluster's members."""

from __future__ import annotations

import json

import pytest

from client_auth.channels import authorize_channel
from pusherd.testing import TEST_APP
from tests.integration.cluster.steps import StartNodes, connect_user
from tests.integration.js import JsClients
from tests.integration.raw import RawClient

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.node]


async def test_subscribing_again_lists_the_members_on_every_node_and_needs_no_token(
    nodes: StartNodes, js: JsClients
) -> None:
    a, b = await nodes(2)
    await connect_user(js, "bob", b, "bob", "Bob")
    await js.subscribed("bob", "presence-room")
    raw = await RawClient.connect(a.port, f"/app/{TEST_APP.key}?protocol=7")
    socket_id = await raw.established()
    ann = {"user_id": "ann", "user_info": {"name": "Ann"}}
    token = authorize_channel(TEST_APP.key, str(TEST_APP.secret), socket_id, "presence-room", ann)
    raw.send_json({"event": "pusher:subscribe", "data": {"channel": "presence-room", **token}})
    first = await raw.recv_json(timeout=10)
    await js.event("bob", "presence-room", "pusher:member_added")

    # "Subscribing again ... no state change, reply with subscription_succeeded again
    # (presence: with the current member list) ... and no error" (PROTOCOL.md §7.2)
    forged = {"auth": f"{TEST_APP.key}:{'0' * 64}", "channel_data": '{"user_id":"eve"}'}
    raw.send_json({"event": "pusher:subscribe", "data": {"channel": "presence-room", **forged}})
    again = await raw.recv_json(timeout=10)
    raw.send_json({"event": "pusher:ping", "data": {}})
    after = await raw.recv_json(timeout=10)
    await raw.close()

    assert first["event"] == again["event"] == "pusher_internal:subscription_succeeded"
    members = {"ann": {"name": "Ann"}, "bob": {"name": "Bob"}}
    for answer in (first, again):
        presence = json.loads(answer["data"])["presence"]
        assert presence["hash"] == members and presence["count"] == 2
        assert sorted(presence["ids"]) == ["ann", "bob"]
    assert after["event"] == "pusher:pong"
    assert [r["data"]["id"] for r in js.events("bob", "pusher:member_added")] == ["ann"]
