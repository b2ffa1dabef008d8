"""The dead-letter routes: listing and replaying an app's dead webhook deliveries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from .fakes import APP, make_api, payload, signed

PATH = "/apps/3/webhooks/dead_letters"
LETTER = {
    "id": "a1",
    "url": "http://127.0.0.1/hook",
    "created_ms": 1,
    "attempts": 9,
    "error": "HTTP 500",
    "events": [],
}

pytestmark = pytest.mark.anyio


class FakeDeadLetters:
    def __init__(self) -> None:
        self.replayed: list[tuple[str, list[str] | None]] = []

    async def dead_letters(self, app_id: str) -> list[dict[str, Any]]:
        return [LETTER] if app_id == APP.id else []

    async def replay(self, app_id: str, ids: Iterable[str] | None = None) -> list[str]:
        self.replayed.append((app_id, None if ids is None else list(ids)))
        return ["new"]


async def test_dead_letters_are_listed_for_a_signed_request() -> None:
    api, _ = make_api(webhooks=FakeDeadLetters())
    response = await api.handle(signed("GET", PATH))
    assert (response.status, payload(response)) == (200, {"dead_letters": [LETTER]})


@pytest.mark.parametrize(("body", "ids"), [(b"", None), (b"{}", None), (b'{"ids":["a1"]}', ["a1"])])
async def test_replay_takes_all_or_the_ids_given(body: bytes, ids: list[str] | None) -> None:
    letters = FakeDeadLetters()
    api, _ = make_api(webhooks=letters)
    response = await api.handle(signed("POST", PATH + "/replay", body))
    assert (response.status, payload(response)) == (200, {"replayed": 1, "ids": ["new"]})
    assert letters.replayed == [("3", ids)]


@pytest.mark.parametrize("body", [b"[1]", b"{oops", b'{"ids":"a1"}', b'{"ids":[1]}'])
async def test_a_malformed_replay_body_is_400(body: bytes) -> None:
    letters = FakeDeadLetters()
    api, _ = make_api(webhooks=letters)
    response = await api.handle(signed("POST", PATH + "/replay", body))
    assert response.status == 400
    assert letters.replayed == []


async def test_unsigned_requests_are_refused() -> None:
    api, _ = make_api(webhooks=FakeDeadLetters())
    request = signed("GET", PATH)
    tampered = type(request)(
        request.method, request.path, request.query.replace("auth_signature=", "auth_signature=0")
    )
    assert (await api.handle(tampered)).status == 401


async def test_without_a_dispatcher_the_routes_are_not_found() -> None:
    api, _ = make_api()
    assert (await api.handle(signed("GET", PATH))).status == 404
