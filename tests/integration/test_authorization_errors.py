"""Each refusal of an authorized channel or sign-in, on the wire, with the exact error the spec names."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from client_auth.channels import authorize_channel
from client_auth.signatures import token
from client_auth.users import authenticate_user
from pusherd.protocol.app import App, Secret
from pusherd.testing import serve
from tests.integration.raw import RawClient

pytestmark = pytest.mark.anyio

APP = App(
    id="5",
    key="k5",
    secret=Secret("s5"),
    enable_client_events=True,
    enable_user_authentication=True,
    limit_presence_members=2,
)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async with serve(apps=[APP]) as server:
        yield server.port


async def connect(port: int) -> tuple[RawClient, str]:
    client = await RawClient.connect(port, "/app/k5?protocol=7")
    return client, await client.established()


def subscribe(client: RawClient, channel: str, **data: Any) -> None:
    client.send_json({"event": "pusher:subscribe", "data": {"channel": channel, **data}})


def sub_error(channel: str, type_: str, error: str, status: int) -> dict[str, Any]:
    return {
        "event": "pusher:subscription_error",
        "channel": channel,
        "data": {"type": type_, "error": error, "status": status},
    }


async def test_a_token_of_another_socket_is_refused(port: int) -> None:
    client, _ = await connect(port)
    stolen = authorize_channel("k5", "s5", "1234.5678", "private-a")["auth"]
    subscribe(client, "private-a", auth=stolen)
    error = await client.recv_json()
    await client.close()
    assert error["event"] == "pusher:subscription_error"
    assert error["data"]["error"].startswith(
        "Invalid signature: Expected HMAC SHA256 hex digest of "
    )
    assert error["data"]["error"].endswith(f"but got {stolen.split(':')[1]}")


async def test_missing_auth_and_a_foreign_key_are_refused(port: int) -> None:
    client, _socket_id = await connect(port)
    subscribe(client, "private-a")
    missing = await client.recv_json()
    subscribe(client, "private-a", auth="other-key:abc")
    foreign = await client.recv_json()
    await client.close()
    assert missing == sub_error(
        "private-a",
        "AuthError",
        "Auth value for subscription to private-a is invalid: should be of format 'key:signature'",
        401,
    )
    assert foreign == sub_error(
        "private-a", "AuthError", "Invalid key in subscription auth data: 'other-key'", 401
    )


async def test_presence_without_channel_data_or_signin_is_refused(port: int) -> None:
    client, socket_id = await connect(port)
    token = authorize_channel("k5", "s5", socket_id, "presence-a", {"user_id": "1"})
    subscribe(client, "presence-a", auth=token["auth"])
    error = await client.recv_json()
    await client.close()
    assert error["data"]["type"] == "AuthError"


async def test_presence_with_signin_and_no_channel_data_uses_the_signed_in_user(port: int) -> None:
    client, socket_id = await connect(port)
    user = authenticate_user("k5", "s5", socket_id, {"id": "77", "user_info": {"name": "Zed"}})
    client.send_json({"event": "pusher:signin", "data": user})
    assert (await client.recv_json())["event"] == "pusher:signin_success"
    # pusher-js >= 7.4: the auth endpoint returned no channel_data, so only socket_id:channel is signed.
    subscribe(client, "presence-b", auth=token("k5", "s5", f"{socket_id}:presence-b"))
    succeeded = await client.recv_json()
    await client.close()
    presence = json.loads(succeeded["data"])["presence"]
    assert presence == {"ids": ["77"], "hash": {"77": {"name": "Zed"}}, "count": 1}


async def test_the_presence_member_limit_refuses_a_new_user_but_not_another_tab(port: int) -> None:
    clients = []
    results = []
    for user_id in ("1", "2", "3", "2"):
        client, socket_id = await connect(port)
        token = authorize_channel("k5", "s5", socket_id, "presence-full", {"user_id": user_id})
        subscribe(client, "presence-full", **token)
        results.append(await client.recv_json())
        clients.append(client)
    for client in clients:
        await client.close()
    assert [r["event"] for r in results] == [
        "pusher_internal:subscription_succeeded",
        "pusher_internal:subscription_succeeded",
        "pusher:subscription_error",
        "pusher_internal:subscription_succeeded",
    ]
    assert results[2] == sub_error(
        "presence-full",
        "LimitReached",
        "The maximum members per presence channel limit was reached",
        4100,
    )


async def test_user_info_over_1_kb_is_refused(port: int) -> None:
    client, socket_id = await connect(port)
    token = authorize_channel(
        "k5", "s5", socket_id, "presence-big", {"user_id": "1", "user_info": {"bio": "x" * 1100}}
    )
    subscribe(client, "presence-big", **token)
    error = await client.recv_json()
    await client.close()
    assert error == sub_error(
        "presence-big", "LimitReached", "The maximum size for a channel member is 1 KB.", 4301
    )


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("bad channel", ("InvalidChannel", "Invalid channel name", 4009)),
        ("#secret", ("InvalidChannel", "Invalid channel name", 4009)),
        (
            "x" * 201,
            ("LimitReached", "The channel name is longer than the allowed 200 characters.", 4009),
        ),
        ("#server-to-user-9", ("AuthError", "Connection is not signed in as user 9", 401)),
    ],
)
async def test_invalid_names_and_foreign_user_channels_are_refused(
    port: int, channel: str, expected: tuple[str, str, int]
) -> None:
    client, _ = await connect(port)
    subscribe(client, channel)
    error = await client.recv_json()
    await client.close()
    assert error == sub_error(channel, *expected)


async def test_client_events_on_public_or_unjoined_channels_are_refused(port: int) -> None:
    client, _socket_id = await connect(port)
    subscribe(client, "public")
    await client.recv_json()
    client.send_json({"event": "client-x", "channel": "public", "data": {}})
    public = await client.recv_json()
    client.send_json({"event": "client-x", "channel": "private-not-joined", "data": {}})
    unjoined = await client.recv_json()
    client.send_json({"event": "client-x", "data": {}})
    no_channel = await client.recv_json()
    await client.close()
    assert public["data"] == {
        "code": None,
        "message": "Client events are only supported on private and presence channels",
    }
    assert public["channel"] == "public"
    assert (
        unjoined["data"]["message"]
        == "Cannot broadcast client event (connection not subscribed to channel private-not-joined)"
    )
    assert no_channel == {
        "event": "pusher:error",
        "data": {"code": None, "message": "Invalid message format"},
    }


async def test_client_events_over_the_rate_are_refused_with_4301(port: int) -> None:
    sender, socket_id = await connect(port)
    subscribe(sender, "private-r", **authorize_channel("k5", "s5", socket_id, "private-r"))
    await sender.recv_json()
    for n in range(11):
        sender.send_json({"event": "client-n", "channel": "private-r", "data": {"n": n}})
    error = await sender.recv_json()
    await sender.close()
    assert error == {
        "event": "pusher:error",
        "channel": "private-r",
        "data": {"code": 4301, "message": "Client event rejected due to rate limit"},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not an object", "Invalid sign-in data"),
        ({"auth": "k5:bad", "user_data": '{"id":"1"}'}, "Invalid signature"),
        ({"user_data": '{"id":"1"}'}, "Invalid sign-in data"),
    ],
)
async def test_bad_sign_ins_get_4009_and_the_connection_stays(
    port: int, data: Any, message: str
) -> None:
    client, _ = await connect(port)
    client.send_json({"event": "pusher:signin", "data": data})
    error = await client.recv_json()
    client.send_json({"event": "pusher:ping"})
    pong = await client.recv_json()
    await client.close()
    assert error == {"event": "pusher:error", "data": {"code": 4009, "message": message}}
    assert pong["event"] == "pusher:pong"


async def test_a_user_id_that_is_not_a_string_is_refused(port: int) -> None:
    client, socket_id = await connect(port)
    user_data = '{"id":5}'
    client.send_json(
        {
            "event": "pusher:signin",
            "data": {
                "auth": token("k5", "s5", f"{socket_id}::user::{user_data}"),
                "user_data": user_data,
            },
        }
    )
    error = await client.recv_json()
    await client.close()
    assert error["data"] == {
        "code": 4009,
        "message": 'The user data must contain a non-empty string "id" field.',
    }


async def test_a_connection_not_authorized_in_time_is_closed_with_4009() -> None:
    app = App(
        id="6",
        key="k6",
        secret=Secret("s6"),
        enable_user_authentication=True,
        timeout_authorization=0.5,
    )
    async with serve(apps=[app], timeout_sweep=0.1) as server:
        idle = await RawClient.connect(server.port, "/app/k6")
        await idle.established()
        signed = await RawClient.connect(server.port, "/app/k6")
        socket_id = await signed.established()
        signed.send_json(
            {
                "event": "pusher:signin",
                "data": authenticate_user("k6", "s6", socket_id, {"id": "1"}),
            }
        )
        await signed.recv_json()
        error = await idle.recv_json(timeout=3)
        close = await idle.recv_close(timeout=3)
        await asyncio.sleep(0.5)
        signed.send_json({"event": "pusher:ping"})
        pong = await signed.recv_json()
        await idle.close()
        await signed.close()
    assert error["data"] == {"code": 4009, "message": "Connection not authorized within timeout"}
    assert (close.close_code, close.close_reason) == (
        4009,
        "Connection not authorized within timeout",
    )
    assert pong["event"] == "pusher:pong"
