"""Query parsing, signature checks and the request rate (HTTP_API.md §2)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client_auth.api import EMPTY_BODY_MD5, body_md5, string_to_sign
from client_auth.signatures import sign
from pusherd.protocol.ratelimit import SlidingWindow
from server_api import Api
from server_api.auth import RateLimiter, check_signature, parse_query
from server_api.errors import ApiError
from server_api.hub import ChannelStats

from .fakes import APP, NOW, AppBook, FakeHub, make_api, payload, php_signed, signed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("a=1&b=2", {"a": "1", "b": "2"}),
        ("info=user_count,subscription_count", {"info": "user_count,subscription_count"}),
        ("info=user_count%2Csubscription_count", {"info": "user_count,subscription_count"}),
        ("name=Something%20else", {"name": "Something else"}),
        ("name=Something else", {"name": "Something else"}),
        ("p=a+b", {"p": "a+b"}),
        ("p=a%2Bb", {"p": "a+b"}),
        ("Auth_Key=K", {"auth_key": "K"}),
        ("flag&x=", {"flag": "", "x": ""}),
        ("a=1&&b=2&", {"a": "1", "b": "2"}),
        ("eq=a=b", {"eq": "a=b"}),
        ("p=%C3%A9", {"p": "é"}),
        ("channels[]=a&channels[]=b", {"channels": "a,b"}),
        ("channels%5B0%5D=a&channels%5B1%5D=b", {"channels": "a,b"}),
    ],
)
def test_queries_decode_as_the_sdks_signed_them(query: str, expected: dict[str, str]) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    "query",
    ["a=1&a=2", "a=1&A=2", "a[]=1&a=2", "a=1&a[]=2", "p=%ff", "p%fe=1", "p=%ed%a0%80"],
)
def test_queries_no_sdk_would_sign_are_401(query: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_query(query)
    assert caught.value.status == 401


def params_for(body: bytes = b"", **extra: str) -> dict[str, str]:
    params = {"auth_key": APP.key, "auth_timestamp": str(NOW), "auth_version": "1.0", **extra}
    if body:
        params.setdefault("body_md5", body_md5(body))
    params["auth_signature"] = sign(str(APP.secret), string_to_sign("POST", "/p", params))
    return params


def check(params: dict[str, str], body: bytes = b"", now: float = NOW) -> None:
    check_signature(APP, "POST", "/p", params, body, now=now)


def test_a_correct_signature_passes() -> None:
    check(params_for(b"{}"), b"{}")
    check(params_for(), b"")


@pytest.mark.parametrize(
    "missing", ["auth_key", "auth_timestamp", "auth_version", "auth_signature"]
)
def test_each_auth_parameter_is_required(missing: str) -> None:
    params = params_for()
    del params[missing]
    with pytest.raises(ApiError, match="Missing authentication parameters") as caught:
        check(params)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("skew", "ok"), [(0, True), (600, True), (-600, True), (601, False), (-601, False)]
)
def test_the_timestamp_must_be_within_600_seconds(skew: int, ok: bool) -> None:
    params = params_for()
    if ok:
        check(params, now=NOW + skew)
    else:
        with pytest.raises(ApiError, match="Timestamp expired"):
            check(params, now=NOW + skew)


@pytest.mark.parametrize("timestamp", ["", "12.5", "-5", "\uff11\uff12", "1e9", "9" * 21])
def test_a_timestamp_that_is_not_unix_seconds_is_401(timestamp: str) -> None:
    with pytest.raises(ApiError, match="Invalid auth_timestamp"):
        check(params_for(auth_timestamp=timestamp))


def test_a_far_future_timestamp_is_refused_without_crashing() -> None:
    with pytest.raises(ApiError, match="Timestamp expired"):
        check(params_for(auth_timestamp="9" * 20))


def test_the_empty_body_md5_is_checked_and_signed_when_present() -> None:
    check(params_for(body_md5=EMPTY_BODY_MD5))
    with pytest.raises(ApiError, match="body_md5 does not match"):
        check(params_for(body_md5=body_md5(b"{}")))


def test_a_body_needs_its_md5() -> None:
    params = params_for()
    with pytest.raises(ApiError, match="Missing body_md5"):
        check(params, b"{}")


def test_a_body_other_than_the_signed_one_is_401_whatever_it_contains() -> None:
    params = params_for(b'{"name":"e","channel":"c","data":"1"}')
    with pytest.raises(ApiError, match="body_md5 does not match"):
        check(params, b'{"name":"e","channel":"c","data":"2"}')


def test_a_signature_over_other_parameters_is_401() -> None:
    params = params_for(info="user_count")
    params["info"] = "subscription_count"
    with pytest.raises(ApiError, match="Invalid signature") as caught:
        check(params)
    assert "auth_version=1.0&info=subscription_count" in caught.value.message


def test_uppercase_hex_body_md5_is_accepted() -> None:
    check(params_for(b"{}", body_md5=body_md5(b"{}").upper()), b"{}")


@pytest.mark.anyio
async def test_php_percent_encoded_queries_verify() -> None:
    hub = FakeHub(stats={"presence-a": ChannelStats(2, 1)})
    api, _ = make_api(hub)
    params = {"info": "user_count,subscription_count", "filter_by_prefix": "presence-"}
    request = php_signed("GET", "/apps/3/channels", params=params)
    assert "info=user_count%2Csubscription_count" in request.query
    response = await api.handle(request)
    assert response.status == 200
    assert payload(response) == {
        "channels": {"presence-a": {"user_count": 1, "subscription_count": 2}}
    }


@pytest.mark.anyio
async def test_php_triggers_with_channel_and_its_string_body_verify() -> None:
    api, hub = make_api()
    body = b'{"name":"my-event","data":"{\\"message\\":\\"hello world\\"}","channel":"c"}'
    response = await api.handle(php_signed("POST", "/apps/3/events", body))
    assert response.status == 200
    assert hub.publications[0].data == '{"message":"hello world"}'


@pytest.mark.anyio
async def test_php_array_parameters_are_signed_joined_with_commas() -> None:
    api, _hub = make_api()
    request = signed("GET", "/apps/3/channels", params={"extra": "a,b"})
    request = replace(request, query=request.query.replace("extra=a,b", "extra[]=a&extra[]=b"))
    assert (await api.handle(request)).status == 200


@pytest.mark.anyio
async def test_node_raw_values_with_spaces_and_plus_verify() -> None:
    api, _hub = make_api()
    params = {"filter_by_prefix": "a+b c"}
    assert (await api.handle(signed("GET", "/apps/3/channels", params=params))).status == 200
    assert (await api.handle(php_signed("GET", "/apps/3/channels", params=params))).status == 200


def test_a_window_allows_its_rate_then_says_how_long_to_wait() -> None:
    window = SlidingWindow(2)
    assert [window.take(0), window.take(0.5)] == [0.0, 0.0]
    assert window.take(0.5) == pytest.approx(0.5)
    assert window.take(0.75) == pytest.approx(0.25)
    assert window.take(1.0) == 0.0
    assert window.take(1.25) == pytest.approx(0.25)


def test_a_window_ignores_a_clock_going_back() -> None:
    window = SlidingWindow(1)
    assert window.take(1000) == 0.0
    assert window.take(50) == pytest.approx(1.0)
    assert window.take(1001) == 0.0


@given(
    st.floats(min_value=0.5, max_value=50),
    st.lists(st.floats(min_value=0, max_value=0.2), min_size=1, max_size=300),
)
def test_no_second_ever_holds_more_than_the_rate(rate: float, gaps: list[float]) -> None:
    window = SlidingWindow(rate)
    now, accepted = 0.0, []
    for gap in gaps:
        now += gap
        if window.take(now) == 0.0:
            accepted.append(now)
    for i, start in enumerate(accepted):
        inside = [t for t in accepted[i:] if t - start < window.window]
        assert len(inside) <= window.capacity <= max(1, rate)


def test_a_steady_stream_gets_exactly_the_rate_through() -> None:
    window = SlidingWindow(10)
    allowed = [t for t in (i / 40 for i in range(40)) if window.take(t) == 0.0]
    assert len(allowed) == 10


def test_a_slow_rate_allows_one_request_and_waits_whole_seconds() -> None:
    limiter = RateLimiter()
    app = replace(APP, limit_api_requests_per_second=0.25)
    limiter.check(app, 0)
    with pytest.raises(ApiError) as caught:
        limiter.check(app, 1)
    assert caught.value.status == 429
    assert caught.value.headers == (("Retry-After", "3"),)
    limiter.check(app, 4)


def test_no_rate_means_unlimited_and_a_changed_rate_starts_a_new_window() -> None:
    limiter = RateLimiter()
    for _ in range(1000):
        limiter.check(APP, 0)
    limited = replace(APP, limit_api_requests_per_second=1)
    limiter.check(limited, 0)
    with pytest.raises(ApiError):
        limiter.check(limited, 0)
    limiter.check(replace(APP, limit_api_requests_per_second=2), 0)


@pytest.mark.anyio
async def test_an_app_over_its_rate_gets_429_with_retry_after() -> None:
    app = replace(APP, limit_api_requests_per_second=2)
    now = [float(NOW)]
    hub = FakeHub()
    api = Api(hub, AppBook(app), clock=lambda: now[0])
    event = {"name": "e", "channel": "c", "data": "d"}
    statuses = [(await api.handle(signed("POST", "/apps/3/events", event))).status for _ in "abc"]
    assert statuses == [200, 200, 429]
    now[0] += 0.5
    assert (await api.handle(signed("POST", "/apps/3/events", event))).status == 429
    now[0] += 0.5
    assert (await api.handle(signed("POST", "/apps/3/events", event))).status == 200
    assert len(hub.publications) == 3


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_window_needs_a_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        SlidingWindow(rate)
