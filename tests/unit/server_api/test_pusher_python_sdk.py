"""Requests built and signed by the real pusher-http-python SDK, answered in process.

The SDK's own request objects and response handling are used; only the transport is
replaced by a backend that hands the request to ``Api.handle``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pusher
import pytest
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherBadStatus
from pusher.http import process_response

from server_api import Api
from server_api.http import ApiRequest
from server_api.hub import ChannelStats, Publication

from .fakes import APP, AppBook, FakeHub


class InProcessBackend:
    """A pusher-http-python backend that answers through ``Api.handle`` instead of a socket."""

    def __init__(self, client: object, api: Api) -> None:
        self.client = client
        self.api = api
        self.sent: list[ApiRequest] = []

    def send_request(self, request: pusher.http.Request) -> object:
        api_request = ApiRequest(
            request.method,
            request.path,
            request.query_string,
            request.body,
            tuple(request.headers.items()),
        )
        self.sent.append(api_request)
        response = asyncio.run(self.api.handle(api_request))
        return process_response(response.status, response.body.decode())


def sdk(hub: FakeHub, secret: str | None = None, **options: object) -> pusher.Pusher:
    api = Api(hub, AppBook(APP), clock=time.time)
    return pusher.Pusher(
        app_id=APP.id,
        key=APP.key,
        secret=str(APP.secret) if secret is None else secret,
        host="127.0.0.1",
        port=8080,
        ssl=False,
        backend=InProcessBackend,
        api=api,
        **options,
    )


def sent(client: pusher.Pusher) -> list[ApiRequest]:
    return client._pusher_client.http.sent


def test_trigger_publishes_to_every_channel() -> None:
    hub = FakeHub()
    client = sdk(hub)
    assert client.trigger(["a", "b"], "my-event", {"message": "hi"}, socket_id="1.2") == {}
    assert hub.publications == [
        Publication(("a", "b"), "my-event", json.dumps({"message": "hi"}), "1.2")
    ]


def test_send_to_user_publishes_on_the_server_to_user_channel() -> None:
    hub = FakeHub()
    sdk(hub).send_to_user("42", "note", "hello")
    assert hub.publications == [Publication(("#server-to-user-42",), "note", "hello")]


def test_trigger_batch_publishes_in_order() -> None:
    hub = FakeHub()
    batch = [
        {"channel": "c1", "name": "e1", "data": "one"},
        {"channel": "presence-c2", "name": "e2", "data": {"two": 2}, "socket_id": "3.4"},
    ]
    assert sdk(hub).trigger_batch(batch) == {}
    assert [(p.channels, p.name, p.socket_id) for p in hub.publications] == [
        (("c1",), "e1", None),
        (("presence-c2",), "e2", "3.4"),
    ]


def test_trigger_to_an_encrypted_channel_is_accepted() -> None:
    hub = FakeHub()
    key = base64.b64encode(b"k" * 32).decode()
    sdk(hub, encryption_master_key_base64=key).trigger("private-encrypted-x", "e", "secret")
    [publication] = hub.publications
    assert set(json.loads(publication.data)) == {"nonce", "ciphertext"}


def test_channel_queries_carry_the_empty_body_md5_and_verify() -> None:
    hub = FakeHub(
        stats={"presence-room": ChannelStats(3, 2), "other": ChannelStats(1)},
        users={"presence-room": ["1", "2"]},
    )
    client = sdk(hub)
    listed = client.channels_info(prefix_filter="presence-", attributes=["user_count"])
    assert listed == {"channels": {"presence-room": {"user_count": 2}}}
    info = client.channel_info("presence-room", ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}
    assert client.users_info("presence-room") == {"users": [{"id": "1"}, {"id": "2"}]}
    assert all("body_md5=d41d8cd98f00b204e9800998ecf8427e" in r.query for r in sent(client))


def test_terminate_user_connections_uses_the_short_path() -> None:
    hub = FakeHub()
    client = sdk(hub)
    assert client.terminate_user_connections("12345") == {}
    assert sent(client)[-1].path == "/users/12345/terminate_connections"
    assert hub.terminated == [(APP.id, "12345")]


def test_a_wrong_secret_raises_the_sdks_auth_error() -> None:
    hub = FakeHub()
    with pytest.raises(PusherBadAuth, match="Invalid signature"):
        sdk(hub, secret="wrong-secret").trigger("c", "e", "d")
    assert hub.published == []


def test_a_400_surfaces_as_the_sdks_bad_request() -> None:
    with pytest.raises(PusherBadRequest, match="reserved"):
        sdk(FakeHub()).trigger("c", "pusher:fake", "d")
    with pytest.raises(PusherBadRequest):
        sdk(FakeHub()).channel_info("c", ["user_count"])


def test_data_over_the_limit_surfaces_as_413() -> None:
    with pytest.raises(PusherBadStatus, match="413"):
        sdk(FakeHub()).trigger("c", "e", "x" * 20_000)
