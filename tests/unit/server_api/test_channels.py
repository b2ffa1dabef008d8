"""GET /channels, /channels/{name} and /channels/{name}/users (HTTP_API.md §5)."""

from __future__ import annotations

import pytest

from server_api.hub import ChannelStats

from .fakes import FakeHub, make_api, payload, signed

STATS = {
    "presence-foobar": ChannelStats(51, 42),
    "presence-another": ChannelStats(123, 100),
    "my-channel": ChannelStats(2),
    "cache-news": ChannelStats(1, cache=("hello", 12.2)),
    "idle": ChannelStats(0),
    "#server-to-user-7": ChannelStats(1),
}


async def get(path: str, params: dict[str, str] | None = None, hub: FakeHub | None = None):
    api, hub = make_api(FakeHub(stats=dict(STATS)) if hub is None else hub)
    response = await api.handle(signed("GET", path, params=params))
    return response.status, payload(response)


@pytest.mark.anyio
async def test_channels_lists_occupied_channels_without_internal_ones() -> None:
    status, body = await get("/apps/3/channels")
    assert status == 200
    assert body == {
        "channels": {
            "cache-news": {},
            "my-channel": {},
            "presence-another": {},
            "presence-foobar": {},
        }
    }


@pytest.mark.anyio
async def test_channels_filters_by_prefix_and_reports_counts() -> None:
    status, body = await get(
        "/apps/3/channels",
        {"filter_by_prefix": "presence-", "info": "user_count,subscription_count"},
    )
    assert status == 200
    assert body == {
        "channels": {
            "presence-another": {"user_count": 100, "subscription_count": 123},
            "presence-foobar": {"user_count": 42, "subscription_count": 51},
        }
    }


@pytest.mark.anyio
async def test_subscription_count_may_be_listed_for_any_prefix() -> None:
    status, body = await get("/apps/3/channels", {"info": "subscription_count"})
    assert status == 200
    assert body["channels"]["my-channel"] == {"subscription_count": 2}  # type: ignore[index]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "params",
    [
        {"info": "user_count"},
        {"info": "user_count", "filter_by_prefix": "private-"},
        {"info": "occupied"},
        {"info": "cache"},
    ],
)
async def test_channels_refuses_disallowed_info_with_400(params: dict[str, str]) -> None:
    status, body = await get("/apps/3/channels", params)
    assert status == 400
    assert set(body) == {"error"}  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_one_presence_channel_reports_occupancy_and_counts() -> None:
    params = {"info": "user_count,subscription_count"}
    status, body = await get("/apps/3/channels/presence-foobar", params)
    assert (status, body) == (200, {"occupied": True, "user_count": 42, "subscription_count": 51})


@pytest.mark.anyio
async def test_an_unoccupied_channel_reports_zeros() -> None:
    status, body = await get("/apps/3/channels/nobody", {"info": "subscription_count"})
    assert (status, body) == (200, {"occupied": False, "subscription_count": 0})
    assert await get("/apps/3/channels/nobody") == (200, {"occupied": False})


@pytest.mark.anyio
async def test_a_cache_channel_reports_its_cached_event_and_ttl_in_whole_seconds() -> None:
    status, body = await get("/apps/3/channels/cache-news", {"info": "cache"})
    assert (status, body) == (200, {"occupied": True, "cache": {"data": "hello", "ttl": 13}})
    status, body = await get("/apps/3/channels/cache-empty", {"info": "cache"})
    assert (status, body) == (200, {"occupied": False, "cache": None})


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "info"),
    [
        ("/apps/3/channels/my-channel", "user_count"),
        ("/apps/3/channels/my-channel", "cache"),
        ("/apps/3/channels/my-channel", "members"),
        ("/apps/3/channels/bad%20name", ""),
        ("/apps/3/channels/%23hash", ""),
    ],
)
async def test_one_channel_refuses_bad_names_and_attributes_with_400(path: str, info: str) -> None:
    status, body = await get(path, {"info": info} if info else None)
    assert status == 400
    assert set(body) == {"error"}  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_users_lists_distinct_ids_as_strings() -> None:
    hub = FakeHub(users={"presence-room": ["1", "2", "1"]})
    status, body = await get("/apps/3/channels/presence-room/users", hub=hub)
    assert (status, body) == (200, {"users": [{"id": "1"}, {"id": "2"}]})


@pytest.mark.anyio
async def test_users_of_an_empty_presence_channel_is_an_empty_list() -> None:
    assert await get("/apps/3/channels/presence-none/users") == (200, {"users": []})


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["my-channel", "private-x", "bad*name"])
async def test_users_of_a_non_presence_channel_is_400(name: str) -> None:
    status, _ = await get(f"/apps/3/channels/{name}/users")
    assert status == 400
