"""Routing, the prefix, and the order of the checks of HTTP_API.md §2.3."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from client_auth.api import EMPTY_BODY_MD5
from server_api import Api
from server_api.http import ApiRequest

from .fakes import APP, NOW, AppBook, FakeHub, make_api, payload, signed

EVENT = {"name": "e", "channels": ["c"], "data": "d"}


def with_param(request: ApiRequest, key: str, value: str | None) -> ApiRequest:
    """Return ``request`` with one query parameter replaced (or removed when ``None``)."""
    pairs = [p.partition("=") for p in request.query.split("&")]
    kept = [f"{k}={v}" for k, _, v in pairs if k != key]
    if value is not None:
        kept.append(f"{key}={value}")
    return replace(request, query="&".join(kept))


@pytest.mark.anyio
async def test_a_well_signed_event_is_published() -> None:
    api, hub = make_api()
    response = await api.handle(signed("POST", "/apps/3/events", EVENT))
    assert (response.status, payload(response)) == (200, {})
    assert len(hub.publications) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/apps/3/event"),
        ("POST", "/apps/3/events/"),
        ("GET", "/apps/3"),
        ("GET", "/apps"),
        ("GET", "/apps//channels"),
        ("GET", "/apps/3/channels/c/users/x"),
        ("POST", "/users/5/terminate"),
        ("GET", "/"),
        ("GET", "/apps/3/channels/%ff"),
    ],
)
async def test_unknown_routes_get_404_json(method: str, path: str) -> None:
    api, _hub = make_api()
    response = await api.handle(signed(method, path))
    assert response.status == 404
    assert "error" in payload(response)  # type: ignore[operator]


@pytest.mark.anyio
async def test_a_wrong_method_on_a_known_route_gets_405_with_allow() -> None:
    api, _hub = make_api()
    response = await api.handle(signed("GET", "/apps/3/events"))
    assert response.status == 405
    assert ("Allow", "POST") in response.headers
    assert payload(response) == {"error": "Method not allowed"}


@pytest.mark.anyio
async def test_an_unknown_app_gets_404() -> None:
    api, _hub = make_api()
    response = await api.handle(signed("POST", "/apps/4/events", EVENT))
    assert response.status == 404


# Each case fails at one step of §2.3 and at every later step too, so the status shows which
# check ran first.
def _fails_from(step: int) -> tuple[ApiRequest, AppBook]:
    disabled_app = replace(APP, enabled=False, limit_api_requests_per_second=None)
    body = b"x" * 2_000_000 if step <= 3 else b"not json"
    request = signed("POST", "/apps/3/events", body)
    if step <= 1:
        request = replace(request, path="/apps/3/eventz")
    if step <= 2:
        request = replace(request, path=request.path.replace("/apps/3/", "/apps/9/"))
    if step <= 4:
        request = with_param(request, "auth_key", "wrong")
    if step <= 5:
        request = with_param(request, "auth_version", "2.0")
    if step <= 6:
        request = with_param(request, "auth_timestamp", str(NOW - 601))
    if step <= 7:
        request = with_param(request, "body_md5", EMPTY_BODY_MD5)
    if step <= 8:
        request = with_param(request, "auth_signature", "0" * 64)
    return request, AppBook(disabled_app)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("step", "status"),
    [(1, 404), (2, 404), (3, 413), (4, 401), (5, 401), (6, 401), (7, 401), (8, 401), (9, 403)],
)
async def test_checks_run_in_the_documented_order(step: int, status: int) -> None:
    request, apps = _fails_from(step)
    hub = FakeHub()
    api = Api(hub, apps, clock=lambda: NOW)
    response = await api.handle(request)
    assert response.status == status
    assert hub.published == []


@pytest.mark.anyio
async def test_each_401_names_the_check_that_failed() -> None:
    messages = []
    for step in (4, 5, 6, 7, 8):
        request, apps = _fails_from(step)
        response = await Api(FakeHub(), apps, clock=lambda: NOW).handle(request)
        messages.append(payload(response)["error"])  # type: ignore[index]
    assert messages[0] == "Unknown auth_key"
    assert messages[1].startswith("Unsupported auth_version")
    assert messages[2].startswith("Timestamp expired")
    assert messages[3] == "body_md5 does not match the request body"
    assert messages[4].startswith('Invalid signature: you should have sent HmacSHA256Hex("POST')


@pytest.mark.anyio
async def test_the_rate_limit_is_checked_after_the_app_is_enabled() -> None:
    limited = replace(APP, enabled=False, limit_api_requests_per_second=1)
    api, _hub = make_api(None, limited)
    statuses = [(await api.handle(signed("POST", "/apps/3/events", EVENT))).status for _ in "ab"]
    assert statuses == [403, 403]


@pytest.mark.anyio
async def test_the_rate_limit_comes_before_the_body_is_parsed() -> None:
    limited = replace(APP, limit_api_requests_per_second=1)
    api, _hub = make_api(None, limited)
    first = await api.handle(signed("POST", "/apps/3/events", b"not json"))
    second = await api.handle(signed("POST", "/apps/3/events", b"not json"))
    assert (first.status, second.status) == (400, 429)
    assert ("Retry-After", "1") in second.headers


@pytest.mark.anyio
async def test_a_body_over_the_cap_gets_413_even_when_well_signed() -> None:
    api, hub = make_api(max_body_bytes=100)
    big = {"name": "e", "channels": ["c"], "data": "x" * 100}
    response = await api.handle(signed("POST", "/apps/3/events", big))
    assert response.status == 413
    assert hub.published == []


@pytest.mark.anyio
async def test_a_body_at_the_cap_is_accepted() -> None:
    body = b'{"name":"e","channels":["c"],"data":"' + b"x" * 20 + b'"}'
    api, _hub = make_api(max_body_bytes=len(body))
    assert (await api.handle(signed("POST", "/apps/3/events", body))).status == 200


@pytest.mark.anyio
@pytest.mark.parametrize("prefix", ["/pusher", "/pusher/", "pusher", "/a/b"])
async def test_routes_live_under_the_prefix_and_the_signature_leaves_it_out(prefix: str) -> None:
    api, _hub = make_api(prefix=prefix)
    wire_prefix = "/" + prefix.strip("/")
    response = await api.handle(signed("POST", "/apps/3/events", EVENT, prefix=wire_prefix))
    assert response.status == 200
    assert api.handles(wire_prefix + "/apps/3/events")


@pytest.mark.anyio
async def test_a_signature_over_the_prefixed_path_is_refused() -> None:
    api, _hub = make_api(prefix="/pusher")
    request = signed("POST", "/pusher/apps/3/events", EVENT)
    assert (await api.handle(request)).status == 401


@pytest.mark.anyio
async def test_without_the_prefix_the_api_answers_404() -> None:
    api, _hub = make_api(prefix="/pusher")
    assert (await api.handle(signed("POST", "/apps/3/events", EVENT))).status == 404
    assert (await api.handle(signed("POST", "/pusherx/apps/3/events", EVENT))).status == 404


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("", "/apps/3/events", True),
        ("", "/apps", True),
        ("", "/users/1/terminate_connections", True),
        ("", "/app/278d425bdf160c739803", False),
        ("", "/health", False),
        ("", "/appsx", False),
        ("/p", "/p/apps/3/channels", True),
        ("/p", "/apps/3/channels", False),
        ("/p", "/px/apps/3/channels", False),
        ("/p", "/p/app/key", False),
    ],
)
def test_handles_tells_api_paths_from_others(prefix: str, path: str, expected: bool) -> None:
    api, _ = make_api(prefix=prefix)
    assert api.handles(path) is expected


@pytest.mark.anyio
async def test_an_unexpected_error_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    api, _hub = make_api(FakeHub(fail=True))
    with caplog.at_level(logging.ERROR, logger="pusherd.api"):
        response = await api.handle(signed("POST", "/apps/3/events", EVENT))
    assert response.status == 500
    assert payload(response) == {"error": "Internal server error"}
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert str(APP.secret) not in caplog.text
    assert "auth_signature" not in caplog.text


@pytest.mark.anyio
async def test_refusals_are_logged_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    api, _hub = make_api()
    with caplog.at_level(logging.INFO, logger="pusherd.api"):
        await api.handle(signed("POST", "/apps/3/events", EVENT, timestamp=0))
    assert caplog.records == []


@pytest.mark.anyio
async def test_the_method_is_matched_case_insensitively_and_signed_uppercase() -> None:
    api, _hub = make_api()
    request = replace(signed("POST", "/apps/3/events", EVENT), method="post")
    assert (await api.handle(request)).status == 200


@pytest.mark.anyio
async def test_percent_encoded_path_segments_are_decoded_but_signed_as_sent() -> None:
    api, _ = make_api(FakeHub(users={"presence-a@b": ["7"]}))
    path = "/apps/3/channels/presence-a%40b/users"
    response = await api.handle(signed("GET", path))
    assert response.status == 200
    assert payload(response) == {"users": [{"id": "7"}]}
