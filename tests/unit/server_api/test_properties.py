"""Property tests: parsers raise only ApiError, and nothing unsigned or altered gets a 200."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from server_api.auth import parse_query
from server_api.errors import ApiError
from server_api.http import ApiRequest
from server_api.hub import Publication
from server_api.schemas import parse_batch, parse_info, parse_trigger

from .fakes import APP, make_api, run, signed

CHANNEL_CHARS = "-abcXYZ019_=@,.;"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.text(CHANNEL_CHARS, min_size=1, max_size=10),
    st.lists(st.text(CHANNEL_CHARS, min_size=1, max_size=10), max_size=3),
    st.sampled_from(["1.2", "user_count", "subscription_count,user_count", "cache"]),
)
event_objects = st.dictionaries(
    st.sampled_from(["name", "data", "channel", "channels", "socket_id", "info", "x"]),
    field_values,
)
bodies = st.one_of(
    st.binary(max_size=200),
    event_objects.map(lambda d: json.dumps(d).encode()),
    st.lists(event_objects, max_size=12).map(lambda b: json.dumps({"batch": b}).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)
query_text = st.text(st.sampled_from("ab_=&%[]+2FfC5Bé,. \x00"), max_size=40) | st.text(max_size=40)


@given(query_text)
def test_parse_query_raises_only_api_errors(query: str) -> None:
    try:
        params = parse_query(query)
    except ApiError as error:
        assert error.status == 401
    else:
        assert all(key == key.lower() for key in params)


@given(bodies)
def test_body_parsers_raise_only_400_or_413(body: bytes) -> None:
    for parse in (parse_trigger, parse_batch):
        try:
            parse(body, APP)
        except ApiError as error:
            assert error.status in (400, 413)


@given(json_values)
def test_parse_info_raises_only_400(value: object) -> None:
    try:
        parse_info(value, {"user_count"})
    except ApiError as error:
        assert error.status == 400


requests = st.builds(
    ApiRequest,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", "", "X\x00"]),
    path=st.one_of(
        st.sampled_from(
            [
                "/apps/3/events",
                "/apps/3/batch_events",
                "/apps/3/channels",
                "/apps/3/channels/presence-x",
                "/apps/3/channels/presence-x/users",
                "/apps/3/users/1/terminate_connections",
                "/users/1/terminate_connections",
            ]
        ),
        st.text(max_size=40).map(lambda s: "/apps/3/" + s),
        st.text(max_size=40),
    ),
    query=query_text
    | st.just(f"auth_key={APP.key}&auth_timestamp=1353088179&auth_version=1.0&auth_signature=0"),
    body=bodies,
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(requests)
def test_garbage_never_raises_and_never_gets_200(request: ApiRequest) -> None:
    api, hub = make_api()
    response = run(api, request)
    assert response.status != 200
    assert set(json.loads(response.body)) == {"error"}
    assert hub.published == [] and hub.terminated == []


@st.composite
def well_signed(draw: st.DrawFn) -> ApiRequest:
    kind = draw(st.sampled_from(["events", "channels", "terminate"]))
    if kind == "events":
        body = json.dumps({"name": "e", "channels": ["c"], "data": draw(st.text(max_size=20))})
        return signed("POST", "/apps/3/events", body)
    if kind == "channels":
        return signed("GET", "/apps/3/channels", params={"info": "subscription_count"})
    return signed("POST", "/users/7/terminate_connections", b"{}")


def _mutations(request: ApiRequest) -> st.SearchStrategy[ApiRequest]:
    pairs = [part.partition("=") for part in request.query.split("&")]
    keys = [key for key, _, _ in pairs]

    def set_param(key: str, value: str) -> ApiRequest:
        kept = [f"{k}={v}" for k, _, v in pairs if k != key]
        return replace(request, query="&".join([*kept, f"{key}={value}"]))

    def drop_param(key: str) -> ApiRequest:
        return replace(request, query="&".join(f"{k}={v}" for k, _, v in pairs if k != key))

    safe_text = st.text(st.characters(codec="ascii", exclude_characters="&=%[]"), max_size=12)
    strategies = [
        st.tuples(st.sampled_from(keys), safe_text).map(lambda kv: set_param(*kv)),
        st.sampled_from(keys).map(drop_param),
        st.tuples(st.sampled_from(["info", "x", "auth_key"]), safe_text).map(
            lambda kv: set_param(*kv)
        ),
        st.sampled_from(["/apps/3/batch_events", "/apps/4/events", "/users/8/x"]).map(
            lambda path: replace(request, path=path)
        ),
        st.binary(max_size=30).map(lambda body: replace(request, body=request.body + body)),
    ]
    if request.body:
        strategies.append(
            st.integers(0, len(request.body) - 1).map(
                lambda i: replace(
                    request,
                    body=request.body[:i] + bytes([request.body[i] ^ 1]) + request.body[i + 1 :],
                )
            )
        )
    return st.one_of(strategies)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_a_request_altered_after_signing_never_gets_200(data: st.DataObject) -> None:
    original = data.draw(well_signed())
    altered = data.draw(_mutations(original))
    assume(altered != original)
    api, hub = make_api()
    assert run(api, original).status == 200
    hub.published.clear()
    hub.terminated.clear()
    response = run(api, altered)
    assert response.status != 200
    assert hub.published == [] and hub.terminated == []


names = st.text(min_size=1, max_size=30).filter(lambda n: not n.startswith("pusher"))
channel_names = st.text(CHANNEL_CHARS, min_size=1, max_size=20)


@settings(deadline=None)
@given(
    name=names,
    channels=st.lists(channel_names, min_size=1, max_size=5),
    data=st.text(max_size=50),
    socket_id=st.none() | st.from_regex(r"\A[0-9]{1,5}\.[0-9]{1,5}\Z"),
)
def test_any_valid_event_is_published_as_sent(
    name: str, channels: list[str], data: str, socket_id: str | None
) -> None:
    assume(all(not c.startswith("private-encrypted-") for c in channels))
    body = {"name": name, "channels": channels, "data": data}
    if socket_id is not None:
        body["socket_id"] = socket_id
    api, hub = make_api()
    response = run(api, signed("POST", "/apps/3/events", json.dumps(body)))
    assert response.status == 200
    expected = Publication(tuple(dict.fromkeys(channels)), name, data, socket_id)
    assert hub.publications == [expected]


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    path=st.sampled_from(["/apps/3/events", "/apps/3/batch_events"]),
    body=bodies.filter(bool),
)
def test_any_well_signed_body_is_published_or_refused_with_400_or_413(
    path: str, body: bytes
) -> None:
    api, hub = make_api()
    response = run(api, signed("POST", path, body))
    assert response.status in (200, 400, 413)
    assert (response.status == 200) == bool(hub.published)


@settings(deadline=None)
@given(
    path=st.sampled_from(
        ["/apps/3/channels", "/apps/3/channels/presence-x", "/apps/3/channels/c/users"]
    ),
    params=st.dictionaries(
        st.sampled_from(["info", "filter_by_prefix", "other"]),
        st.text(st.characters(codec="ascii", exclude_characters="&=%#"), max_size=30),
    ),
)
def test_any_well_signed_query_is_answered_with_200_or_400(
    path: str, params: dict[str, str]
) -> None:
    api, _ = make_api()
    response = run(api, signed("GET", path, params=params))
    assert response.status in (200, 400), response.body
