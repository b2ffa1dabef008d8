"""POST /events and /batch_events through ``Api.handle`` (HTTP_API.md §3, §4)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from server_api.hub import ChannelStats, Publication

from .fakes import APP, FakeHub, make_api, payload, signed


async def trigger(body: object, hub: FakeHub | None = None, **app_changes: object):
    app = replace(APP, **app_changes)  # type: ignore[arg-type]
    api, hub = make_api(hub, app)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await api.handle(signed("POST", "/apps/3/events", raw, app=app))
    return response, hub


async def batch(body: object, hub: FakeHub | None = None, **app_changes: object):
    app = replace(APP, **app_changes)  # type: ignore[arg-type]
    api, hub = make_api(hub, app)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await api.handle(signed("POST", "/apps/3/batch_events", raw, app=app))
    return response, hub


@pytest.mark.anyio
async def test_an_event_to_several_channels_is_one_publication_with_distinct_channels() -> None:
    body = {"name": "e", "channels": ["b", "a", "b", "c"], "data": "d", "socket_id": "1.2"}
    response, hub = await trigger(body)
    assert (response.status, payload(response)) == (200, {})
    assert hub.published == [("3", (Publication(("b", "a", "c"), "e", "d", "1.2"),))]


@pytest.mark.anyio
async def test_php_style_channel_is_accepted_and_channels_wins_over_it() -> None:
    response, hub = await trigger({"name": "e", "channel": "one", "data": "d"})
    assert response.status == 200
    response, hub = await trigger({"name": "e", "channel": "one", "channels": ["two"], "data": ""})
    assert response.status == 200
    assert hub.publications[0].channels == ("two",)


@pytest.mark.anyio
async def test_event_names_are_not_restricted_in_characters() -> None:
    response, hub = await trigger({"name": "App\\Events\\Shipped é", "channel": "c", "data": "x"})
    assert response.status == 200
    assert hub.publications[0].name == "App\\Events\\Shipped é"


@pytest.mark.anyio
async def test_sending_to_a_user_publishes_on_the_server_to_user_channel() -> None:
    response, hub = await trigger({"name": "e", "channels": ["#server-to-user-42"], "data": "x"})
    assert response.status == 200
    assert hub.publications[0].channels == ("#server-to-user-42",)


@pytest.mark.anyio
async def test_info_reports_counts_per_channel_read_after_publishing() -> None:
    hub = FakeHub(stats={"presence-foobar": ChannelStats(51, 42), "another": ChannelStats(13, 9)})
    body = {
        "name": "e",
        "channels": ["presence-foobar", "another", "empty"],
        "data": "x",
        "info": "user_count,subscription_count",
    }
    response, hub = await trigger(body, hub)
    assert response.status == 200
    assert payload(response) == {
        "channels": {
            "presence-foobar": {"user_count": 42, "subscription_count": 51},
            "another": {"subscription_count": 13},
            "empty": {"subscription_count": 0},
        }
    }
    assert hub.queried == ["presence-foobar", "another", "empty"]


@pytest.mark.anyio
async def test_info_with_user_count_only_leaves_non_presence_channels_empty() -> None:
    body = {"name": "e", "channels": ["public"], "data": "x", "info": "user_count"}
    response, _ = await trigger(body, FakeHub(stats={"public": ChannelStats(3, 3)}))
    assert payload(response) == {"channels": {"public": {}}}


BAD_TRIGGERS = [
    ("not json", b"{nope"),
    ("a list", b"[]"),
    ("null", b"null"),
    ("a string", b'"x"'),
    ("NaN", b'{"name":"e","channel":"c","data":NaN}'),
    ("no name", {"channels": ["c"], "data": "d"}),
    ("name not a string", {"name": 5, "channels": ["c"], "data": "d"}),
    ("empty name", {"name": "", "channels": ["c"], "data": "d"}),
    ("long name", {"name": "e" * 201, "channels": ["c"], "data": "d"}),
    ("reserved name", {"name": "pusher:ping", "channels": ["c"], "data": "d"}),
    ("internal name", {"name": "pusher_internal:x", "channels": ["c"], "data": "d"}),
    ("no data", {"name": "e", "channels": ["c"]}),
    ("data not a string", {"name": "e", "channels": ["c"], "data": {"a": 1}}),
    ("no channels", {"name": "e", "data": "d"}),
    ("channels not a list", {"name": "e", "channels": "c", "data": "d"}),
    ("channel not a string", {"name": "e", "channel": ["c"], "data": "d"}),
    ("channel element not a string", {"name": "e", "channels": [1], "data": "d"}),
    ("zero channels", {"name": "e", "channels": [], "data": "d"}),
    ("101 channels", {"name": "e", "channels": [f"c{i}" for i in range(101)], "data": "d"}),
    ("bad channel name", {"name": "e", "channels": ["a b"], "data": "d"}),
    ("hash channel", {"name": "e", "channels": ["#other"], "data": "d"}),
    ("long channel", {"name": "e", "channels": ["c" * 201], "data": "d"}),
    ("newline in channel", {"name": "e", "channels": ["c\n"], "data": "d"}),
    ("bad socket id", {"name": "e", "channels": ["c"], "data": "d", "socket_id": "1.x"}),
    ("socket id not a string", {"name": "e", "channels": ["c"], "data": "d", "socket_id": 1.2}),
    ("unknown info", {"name": "e", "channels": ["c"], "data": "d", "info": "occupied"}),
    ("cache info", {"name": "e", "channels": ["c"], "data": "d", "info": "cache"}),
    (
        "encrypted among several",
        {"name": "e", "channels": ["private-encrypted-a", "b"], "data": "d"},
    ),
    ("lone surrogate", b'{"name":"e","channels":["c"],"data":"\\ud800"}'),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "body"), BAD_TRIGGERS, ids=[c for c, _ in BAD_TRIGGERS])
async def test_a_malformed_trigger_gets_400_and_publishes_nothing(case: str, body: object) -> None:
    response, hub = await trigger(body)
    assert response.status == 400, payload(response)
    assert set(payload(response)) == {"error"}  # type: ignore[arg-type]
    assert hub.published == []


@pytest.mark.anyio
async def test_100_channels_and_one_encrypted_channel_are_fine() -> None:
    channels = [f"c{i}" for i in range(100)]
    response, _ = await trigger({"name": "e", "channels": channels, "data": "d"})
    assert response.status == 200
    body = {"name": "e", "channels": ["private-encrypted-a"], "data": "d"}
    assert (await trigger(body))[0].status == 200


@pytest.mark.anyio
async def test_data_over_the_limit_in_utf8_bytes_gets_413() -> None:
    at_limit = "é" * 5120  # 10 240 bytes
    response, hub = await trigger({"name": "e", "channel": "c", "data": at_limit})
    assert response.status == 200
    response, hub = await trigger({"name": "e", "channel": "c", "data": at_limit + "x"})
    assert response.status == 413
    assert payload(response) == {"error": "The event data is larger than the allowed 10240 bytes."}
    assert hub.published == []


@pytest.mark.anyio
async def test_the_limits_follow_the_apps_settings() -> None:
    body = {"name": "abcd", "channels": ["abc", "d"], "data": "12345"}
    assert (await trigger(body, limit_event_name_length=3))[0].status == 400
    assert (await trigger(body, limit_channel_name_length=2))[0].status == 400
    assert (await trigger(body, limit_channels_per_trigger=1))[0].status == 400
    assert (await trigger(body, limit_event_data_bytes=4))[0].status == 413
    assert (await trigger({**body, "channels": ["#server-to-user-12345"]}))[0].status == 200
    to_user = {**body, "channels": ["#server-to-user-12345"]}
    assert (await trigger(to_user, limit_user_id_length=4))[0].status == 400


@pytest.mark.anyio
async def test_a_batch_is_published_in_order_with_each_socket_id() -> None:
    items = [
        {"name": "e1", "channel": "c1", "data": "a"},
        {"name": "e2", "channel": "presence-c2", "data": "b", "socket_id": "123.456"},
    ]
    response, hub = await batch({"batch": items})
    assert (response.status, payload(response)) == (200, {})
    assert hub.published == [
        (
            "3",
            (Publication(("c1",), "e1", "a"), Publication(("presence-c2",), "e2", "b", "123.456")),
        )
    ]


@pytest.mark.anyio
async def test_batch_info_is_aligned_with_the_request() -> None:
    hub = FakeHub(stats={"presence-c2": ChannelStats(2, 1), "c3": ChannelStats(5)})
    items = [
        {"name": "e1", "channel": "c1", "data": "a"},
        {
            "name": "e2",
            "channel": "presence-c2",
            "data": "b",
            "info": "user_count,subscription_count",
        },
        {"name": "e3", "channel": "c3", "data": "b", "info": "subscription_count,user_count"},
        {"name": "e4", "channel": "c3", "data": "b", "info": "subscription_count"},
    ]
    response, hub = await batch({"batch": items}, hub)
    assert payload(response) == {
        "batch": [
            {},
            {"user_count": 1, "subscription_count": 2},
            {"subscription_count": 5},
            {"subscription_count": 5},
        ]
    }
    assert hub.queried == ["presence-c2", "c3"]


GOOD_ITEM = {"name": "e", "channel": "c", "data": "d"}
BAD_BATCHES = [
    ("not json", b"nope", 400),
    ("no batch", {}, 400),
    ("batch not a list", {"batch": {"0": GOOD_ITEM}}, 400),
    ("empty batch", {"batch": []}, 400),
    ("item not an object", {"batch": [GOOD_ITEM, "x"]}, 400),
    ("item with channels", {"batch": [{**GOOD_ITEM, "channels": ["c"]}]}, 400),
    ("item without channel", {"batch": [{"name": "e", "data": "d"}]}, 400),
    ("item with bad name", {"batch": [GOOD_ITEM, {**GOOD_ITEM, "name": "pusher:x"}]}, 400),
    ("item with bad socket id", {"batch": [{**GOOD_ITEM, "socket_id": "1"}]}, 400),
    ("item with bad info", {"batch": [{**GOOD_ITEM, "info": "x"}]}, 400),
    ("item with bad channel", {"batch": [{**GOOD_ITEM, "channel": "a*b"}]}, 400),
    ("item too big", {"batch": [GOOD_ITEM, {**GOOD_ITEM, "data": "x" * 10241}]}, 413),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "body", "status"), BAD_BATCHES, ids=[c for c, _, _ in BAD_BATCHES]
)
async def test_one_bad_batch_item_rejects_the_whole_batch(
    case: str, body: object, status: int
) -> None:
    response, hub = await batch(body)
    assert response.status == status, payload(response)
    assert hub.published == []


@pytest.mark.anyio
async def test_more_than_ten_batch_items_get_pushers_message() -> None:
    response, _hub = await batch({"batch": [GOOD_ITEM] * 11})
    assert response.status == 400
    assert payload(response) == {"error": "Cannot batch-send more than 10 messages at once"}
    assert (await batch({"batch": [GOOD_ITEM] * 10}))[0].status == 200


@pytest.mark.anyio
async def test_the_batch_limit_message_uses_the_apps_limit() -> None:
    response, _ = await batch({"batch": [GOOD_ITEM] * 4}, limit_batch_events=3)
    assert payload(response) == {"error": "Cannot batch-send more than 3 messages at once"}
