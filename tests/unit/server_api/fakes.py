"""An in-memory hub and app store, and helpers that sign requests the way the SDKs do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from client_auth.api import EMPTY_BODY_MD5, signed_params, string_to_sign
from client_auth.signatures import sign
from pusherd.protocol.app import App, Secret
from server_api import Api
from server_api.http import ApiRequest, ApiResponse
from server_api.hub import ChannelStats, Publication

#: HTTP_API.md §2.5 credentials and time
APP = App(id="3", key="278d425bdf160c739803", secret=Secret("7ad3773142a6692b25b8"))
NOW = 1353088179


@dataclass
class FakeHub:
    """Records what the API publishes and serves configured channel state."""

    stats: dict[str, ChannelStats] = field(default_factory=dict)
    users: dict[str, list[str]] = field(default_factory=dict)
    published: list[tuple[str, tuple[Publication, ...]]] = field(default_factory=list)
    terminated: list[tuple[str, str]] = field(default_factory=list)
    queried: list[str] = field(default_factory=list)
    fail: bool = False

    def publish(self, app: App, publications: Sequence[Publication]) -> None:
        if self.fail:
            raise RuntimeError("hub exploded")
        self.published.append((app.id, tuple(publications)))

    async def channels(self, app: App, prefix: str) -> dict[str, ChannelStats]:
        return {name: s for name, s in self.stats.items() if name.startswith(prefix)}

    async def channel(self, app: App, name: str) -> ChannelStats:
        self.queried.append(name)
        return self.stats.get(name, ChannelStats())

    async def presence_users(self, app: App, name: str) -> list[str]:
        return list(self.users.get(name, []))

    async def terminate_user(self, app: App, user_id: str) -> None:
        self.terminated.append((app.id, user_id))

    @property
    def publications(self) -> list[Publication]:
        return [p for _, batch in self.published for p in batch]


class AppBook:
    """An app store over a fixed list of apps."""

    def __init__(self, *apps: App) -> None:
        self.apps = list(apps)

    def by_id(self, app_id: str) -> App | None:
        return next((a for a in self.apps if a.id == app_id), None)

    def by_key(self, key: str) -> App | None:
        return next((a for a in self.apps if a.key == key), None)

    def replace(self, **changes: object) -> App:
        """Change the first app's settings, as a config reload would."""
        self.apps[0] = replace(self.apps[0], **changes)  # type: ignore[arg-type]
        return self.apps[0]


def make_api(
    hub: FakeHub | None = None, *apps: App, now: float = NOW, **options: object
) -> tuple[Api, FakeHub]:
    hub = FakeHub() if hub is None else hub
    api = Api(hub, AppBook(*(apps or (APP,))), clock=lambda: now, **options)  # type: ignore[arg-type]
    return api, hub


def signed(
    method: str,
    path: str,
    body: bytes | str | dict[str, object] = b"",
    params: Mapping[str, str] | None = None,
    *,
    app: App = APP,
    timestamp: int = NOW,
    prefix: str = "",
    md5_on_empty: bool = False,
) -> ApiRequest:
    """Build a request signed as pusher-http-node does (raw values, body_md5 only with a body).

    ``md5_on_empty`` adds the empty body's MD5 as pusher-http-python does on GET.
    """
    if isinstance(body, dict):
        body = json.dumps(body)
    raw = body.encode() if isinstance(body, str) else body
    query = signed_params(app.key, str(app.secret), method, path, raw, params, timestamp=timestamp)
    if md5_on_empty and not raw:
        query = _resign_with_empty_md5(app, method, path, query)
    text = "&".join(f"{k}={v}" for k, v in query.items())
    return ApiRequest(method, prefix + path, text, raw)


def php_signed(
    method: str,
    path: str,
    body: bytes = b"",
    params: Mapping[str, str] | None = None,
    *,
    app: App = APP,
    timestamp: int = NOW,
) -> ApiRequest:
    """Build a request as pusher-http-php (Guzzle) sends it: every value percent-encoded."""
    query = signed_params(app.key, str(app.secret), method, path, body, params, timestamp=timestamp)
    text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    return ApiRequest(method, path, text, body)


def _resign_with_empty_md5(
    app: App, method: str, path: str, query: dict[str, str]
) -> dict[str, str]:
    query = {k: v for k, v in query.items() if k != "auth_signature"}
    query["body_md5"] = EMPTY_BODY_MD5
    query["auth_signature"] = sign(str(app.secret), string_to_sign(method, path, query))
    return query


def run(api: Api, request: ApiRequest) -> ApiResponse:
    """Answer ``request`` synchronously (for Hypothesis and SDK backends)."""
    return asyncio.run(api.handle(request))


def payload(response: ApiResponse) -> object:
    assert response.content_type == "application/json"
    return json.loads(response.body)
