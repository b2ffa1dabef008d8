"""POST terminate_connections, on the full and the short path (HTTP_API.md §6)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from .fakes import APP, FakeHub, make_api, payload, signed

OTHER = replace(APP, id="4", key="otherkey", name="other")


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"{}", b""])
async def test_terminate_closes_the_users_connections(body: bytes) -> None:
    api, hub = make_api()
    response = await api.handle(signed("POST", "/apps/3/users/u%3A1/terminate_connections", body))
    assert (response.status, payload(response)) == (200, {})
    assert hub.terminated == [("3", "u:1")]


@pytest.mark.anyio
async def test_terminate_does_not_read_its_body() -> None:
    api, _hub = make_api()
    response = await api.handle(signed("POST", "/apps/3/users/9/terminate_connections", b"[oops"))
    assert response.status == 200


@pytest.mark.anyio
async def test_the_short_path_finds_the_app_by_its_key() -> None:
    api, hub = make_api(FakeHub(), APP, OTHER)
    request = signed("POST", "/users/12345/terminate_connections", b"{}", app=OTHER)
    response = await api.handle(request)
    assert (response.status, payload(response)) == (200, {})
    assert hub.terminated == [("4", "12345")]


@pytest.mark.anyio
async def test_the_short_path_with_an_unknown_key_is_401() -> None:
    api, hub = make_api()
    stranger = replace(APP, key="nobody")
    request = signed("POST", "/users/1/terminate_connections", b"{}", app=stranger)
    response = await api.handle(request)
    assert response.status == 401
    assert hub.terminated == []


@pytest.mark.anyio
async def test_the_short_path_without_a_key_is_401() -> None:
    api, _hub = make_api()
    request = signed("POST", "/users/1/terminate_connections", b"{}")
    request = replace(request, query="")
    assert (await api.handle(request)).status == 401


@pytest.mark.anyio
async def test_the_short_path_is_signed_without_apps() -> None:
    api, hub = make_api()
    request = signed("POST", "/apps/3/users/1/terminate_connections", b"{}")
    request = replace(request, path="/users/1/terminate_connections")
    assert (await api.handle(request)).status == 401
    assert hub.terminated == []
