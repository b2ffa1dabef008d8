"""The API's entry point: routes a request, authenticates it and calls its resource handler."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote

from pusherd.protocol.app import App
from server_api import channels, events, users
from server_api.auth import (
    AuthorizedRequest,
    RateLimiter,
    check_enabled,
    check_signature,
    parse_query,
)
from server_api.errors import ApiError, json_response
from server_api.http import ApiRequest, ApiResponse
from server_api.hub import AppStore, Hub

logger = logging.getLogger("pusherd.api")

Handler = Callable[[Hub, AuthorizedRequest], Awaitable[ApiResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """A method, a path pattern split on ``/`` (``{name}`` is a parameter) and its handler."""

    method: str
    pattern: tuple[str, ...]
    handler: Handler

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """Return the decoded path parameters if ``segments`` fit the pattern, else ``None``."""
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    return None
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params


ROUTES = (
    Route("POST", ("apps", "{app_id}", "events"), events.trigger_event),
    Route("POST", ("apps", "{app_id}", "batch_events"), events.trigger_batch),
    Route("GET", ("apps", "{app_id}", "channels"), channels.list_channels),
    Route("GET", ("apps", "{app_id}", "channels", "{channel_name}"), channels.show_channel),
    Route("GET", ("apps", "{app_id}", "channels", "{channel_name}", "users"), channels.list_users),
    Route(
        "POST",
        ("apps", "{app_id}", "users", "{user_id}", "terminate_connections"),
        users.terminate_connections,
    ),
    # HTTP_API.md §6: pusher-http-python leaves out /apps/{app_id}; the app is found by auth_key.
    Route("POST", ("users", "{user_id}", "terminate_connections"), users.terminate_connections),
)


class Api:
    """The signed HTTP API, independent of the transport that parses HTTP.

    Args:
        hub: publishes events and answers channel queries.
        apps: finds apps by id and by key.
        prefix: the path prefix in front of every route (``""`` or e.g. ``"/pusher"``); it is
            not part of the signed path.
        clock: returns Unix time in seconds; checked against ``auth_timestamp`` and used for
            the request rate.
        max_body_bytes: the request body cap (LIMITS.md §1); larger bodies get 413.
    """

    def __init__(
        self,
        hub: Hub,
        apps: AppStore,
        *,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = 1_048_576,
    ) -> None:
        self.hub = hub
        self.apps = apps
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self._rate_limiter = RateLimiter()

    def handles(self, path: str) -> bool:
        """Tell whether ``path`` (as sent, without query) is an API path under the prefix."""
        rest = self._strip_prefix(path)
        return rest is not None and (
            rest == "/apps" or rest.startswith("/apps/") or rest.startswith("/users/")
        )

    async def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; never raises (an unexpected error becomes a 500).

        Args:
            request: the request as received, path still percent-encoded.

        Returns:
            200 with a JSON body, or an error status with ``{"error": message}``.
        """
        try:
            return await self._handle(request)
        except ApiError as error:
            logger.debug("%s %s -> %d %s", request.method, request.path, error.status, error)
            return error.to_response()
        except Exception:
            logger.exception("internal error answering %s %s", request.method, request.path)
            return json_response({"error": "Internal server error"}, 500)

    async def _handle(self, request: ApiRequest) -> ApiResponse:
        path = self._strip_prefix(request.path)
        if path is None:
            raise ApiError(404, "Not found")
        route, path_params = _find_route(request.method.upper(), path)
        app, params = self._find_app(path_params, request.query)
        if len(request.body) > self.max_body_bytes:
            raise ApiError(413, f"Request body is larger than {self.max_body_bytes} bytes")
        now = self.clock()
        check_signature(app, request.method, path, params, request.body, now=now)
        check_enabled(app)
        self._rate_limiter.check(app, now)
        authorized = AuthorizedRequest(app, params, request.body, path_params)
        return await route.handler(self.hub, authorized)

    def _find_app(self, path_params: dict[str, str], query: str) -> tuple[App, dict[str, str]]:
        app_id = path_params.get("app_id")
        if app_id is not None:
            app = self.apps.by_id(app_id)
            if app is None:
                raise ApiError(404, "Unknown app_id")
            return app, parse_query(query)
        # The short terminate path names no app: the key is the only way to find it.
        params = parse_query(query)
        app = self.apps.by_key(params.get("auth_key", ""))
        if app is None:
            raise ApiError(401, "Unknown auth_key")
        return app, params

    def _strip_prefix(self, path: str) -> str | None:
        if not self.prefix:
            return path
        if path.startswith(self.prefix) and path[len(self.prefix) :].startswith("/"):
            return path[len(self.prefix) :]
        return None


def _find_route(method: str, path: str) -> tuple[Route, dict[str, str]]:
    try:
        segments = tuple(unquote(s, errors="strict") for s in path.split("/")[1:])
    except UnicodeError:
        raise ApiError(404, "Not found") from None
    allowed: list[str] = []
    for route in ROUTES:
        params = route.match(segments)
        if params is None:
            continue
        if route.method == method:
            return route, params
        allowed.append(route.method)
    if allowed:
        raise ApiError(405, "Method not allowed", (("Allow", ", ".join(allowed)),))
    raise ApiError(404, "Not found")
