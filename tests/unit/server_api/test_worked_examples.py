"""The four worked examples of HTTP_API.md §2.5, sent byte for byte, verify."""

from __future__ import annotations

import pytest

from server_api.http import ApiRequest
from server_api.hub import ChannelStats, Publication

from .fakes import APP, FakeHub, make_api, payload

AUTH = "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0"


@pytest.mark.anyio
async def test_example_a_publishes_pushers_own_event() -> None:
    api, hub = make_api()
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    query = (
        f"{AUTH}&body_md5=ec365a775a4cd0599faeb73354201b6f"
        "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )
    response = await api.handle(ApiRequest("POST", "/apps/3/events", query, body))
    assert (response.status, payload(response)) == (200, {})
    assert hub.publications == [Publication(("project-3",), "foo", '{"some":"data"}')]


@pytest.mark.anyio
async def test_example_b_lists_presence_channels_with_user_counts() -> None:
    hub = FakeHub(stats={"presence-foobar": ChannelStats(51, 42), "other": ChannelStats(1)})
    api, _ = make_api(hub)
    query = (
        "filter_by_prefix=presence-&info=user_count&" + AUTH + "&auth_signature="
        "16819168891cb5dfd72b5c7a5d3d602605b26c6ba1930033b5e2eeeb65010291"
    )
    response = await api.handle(ApiRequest("GET", "/apps/3/channels", query))
    assert response.status == 200
    assert payload(response) == {"channels": {"presence-foobar": {"user_count": 42}}}


@pytest.mark.anyio
async def test_example_c_accepts_pythons_empty_body_md5_on_get() -> None:
    hub = FakeHub(users={"presence-foobar": ["1", "2"]})
    api, _ = make_api(hub)
    query = (
        f"{AUTH}&body_md5=d41d8cd98f00b204e9800998ecf8427e&auth_signature="
        "3d68b512095fd42cb6741cc80616761b1c77d00fcc4d6d9740f09504a4b761b0"
    )
    response = await api.handle(ApiRequest("GET", "/apps/3/channels/presence-foobar/users", query))
    assert response.status == 200
    assert payload(response) == {"users": [{"id": "1"}, {"id": "2"}]}


@pytest.mark.anyio
async def test_example_d_terminates_a_users_connections() -> None:
    api, hub = make_api()
    query = (
        f"{AUTH}&body_md5=99914b932bd37a50b983c5e7c90ae93b&auth_signature="
        "01fa634edeb0cae84115307cad5c23f65a46cd286461b1c89637a3b5871a8f0e"
    )
    request = ApiRequest("POST", "/apps/3/users/12345/terminate_connections", query, b"{}")
    response = await api.handle(request)
    assert (response.status, payload(response)) == (200, {})
    assert hub.terminated == [(APP.id, "12345")]


@pytest.mark.anyio
async def test_example_a_fails_once_the_clock_is_past_the_window() -> None:
    api, hub = make_api(now=1353088179 + 601)
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    query = (
        f"{AUTH}&body_md5=ec365a775a4cd0599faeb73354201b6f"
        "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )
    response = await api.handle(ApiRequest("POST", "/apps/3/events", query, body))
    assert response.status == 401
    assert hub.published == []
