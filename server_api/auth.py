"""Request authentication for the HTTP API: query parsing, signature checks, rate limiting.

The checks run in the order of HTTP_API.md §2.3; the router calls them after the route and
the app are known and the body size is checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

from client_auth.api import body_md5, string_to_sign
from client_auth.signatures import verify
from pusherd.protocol.app import App
from pusherd.protocol.ratelimit import SlidingWindow
from server_api.errors import ApiError, shorten

#: HTTP_API.md §2.3: ``abs(now - auth_timestamp) <= 600 s``
TIMESTAMP_WINDOW = 600
AUTH_VERSION = "1.0"
REQUIRED_PARAMS = ("auth_key", "auth_timestamp", "auth_version", "auth_signature")

# pusher-http-php sends arrays as ``key[]=a&key[]=b`` or ``key[0]=a&key[1]=b`` and signs
# ``key=a,b`` (HTTP_API.md §2.2).
_ARRAY_KEY_RE = re.compile(r"(.+)\[[0-9]*\]")
_TIMESTAMP_RE = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True, slots=True)
class AuthorizedRequest:
    """A request that passed every check of HTTP_API.md §2.3, as the resource handlers get it."""

    app: App
    #: the query, as returned by :func:`parse_query`
    params: Mapping[str, str]
    body: bytes = b""
    #: percent-decoded path parameters, e.g. ``channel_name``
    path_params: Mapping[str, str] = field(default_factory=dict)


def parse_query(query: str) -> dict[str, str]:
    """Return the query parameters as the SDKs signed them: lowercased keys, decoded values.

    Values are percent-decoded (pusher-http-php encodes them, node and python do not) and
    ``+`` stays a plus sign: no SDK encodes a space as ``+`` (php's Guzzle writes ``%20`` and
    ``%2B``; node and python send values raw). Array parameters are joined with ``,``.

    Raises:
        ApiError: 401 for a query no SDK would sign: a key given twice, bad UTF-8.
    """
    params: dict[str, str] = {}
    arrays: dict[str, list[str]] = {}
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key, value = _decode(raw_key).lower(), _decode(raw_value)
        if array := _ARRAY_KEY_RE.fullmatch(key):
            key = array.group(1)
            if key in params and key not in arrays:
                raise ApiError(401, f"Duplicate query parameter: {shorten(key)!r}")
            arrays.setdefault(key, []).append(value)
            params[key] = ",".join(arrays[key])
        elif key in params:
            raise ApiError(401, f"Duplicate query parameter: {shorten(key)!r}")
        else:
            params[key] = value
    return params


def check_signature(
    app: App, method: str, path: str, params: Mapping[str, str], body: bytes, *, now: float
) -> None:
    """Check a request's auth parameters, timestamp, ``body_md5`` and signature, in that order.

    Args:
        app: the app the request is addressed to.
        method: the HTTP method.
        path: the path as sent, without the server's prefix (that is what SDKs sign).
        params: the query as returned by :func:`parse_query`.
        body: the raw body.
        now: the server's Unix time.

    Raises:
        ApiError: 401 at the first failing check.
    """
    missing = [name for name in REQUIRED_PARAMS if name not in params]
    if missing:
        raise ApiError(401, f"Missing authentication parameters: {', '.join(missing)}")
    if params["auth_key"] != app.key:
        raise ApiError(401, "Unknown auth_key")
    if params["auth_version"] != AUTH_VERSION:
        raise ApiError(401, f"Unsupported auth_version, expected {AUTH_VERSION}")
    _check_timestamp(params["auth_timestamp"], now)
    _check_body_md5(params.get("body_md5"), body)
    expected = string_to_sign(method, path, params)
    signature = params["auth_signature"]
    if not verify(str(app.secret), expected, signature):
        # Pusher's own wording; the string to sign holds no secret and saves the caller a guess.
        shown = expected.replace("\n", "\\n")
        raise ApiError(
            401,
            f'Invalid signature: you should have sent HmacSHA256Hex("{shown}", your_secret_key),'
            f' but you sent "{shorten(signature)}"',
        )


def check_enabled(app: App) -> None:
    """Raise a 403 if ``app`` is disabled."""
    if not app.enabled:
        raise ApiError(403, "Application is disabled")


class RateLimiter:
    """Holds one sliding window per app, sized by ``app.limit_api_requests_per_second``."""

    def __init__(self) -> None:
        self._buckets: dict[str, SlidingWindow] = {}

    def check(self, app: App, now: float) -> None:
        """Count one request for ``app``.

        Raises:
            ApiError: 429 with ``Retry-After`` (whole seconds, rounded up) when over the rate.
        """
        rate = app.limit_api_requests_per_second
        if rate is None:
            self._buckets.pop(app.id, None)
            return
        bucket = self._buckets.get(app.id)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[app.id] = SlidingWindow(rate)
        wait = bucket.take(now)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"Too many requests: over {rate:g} requests per second",
                (("Retry-After", str(retry_after)),),
            )


def _decode(text: str) -> str:
    try:
        value = unquote(text, errors="strict")
        value.encode()
    except UnicodeError:
        raise ApiError(401, "Query string is not valid UTF-8") from None
    return value


def _check_timestamp(value: str, now: float) -> None:
    if not _TIMESTAMP_RE.fullmatch(value):
        raise ApiError(401, "Invalid auth_timestamp: expected Unix seconds")
    if abs(now - int(value)) > TIMESTAMP_WINDOW:
        given = datetime.fromtimestamp(min(int(value), 253402300799), UTC)
        server = datetime.fromtimestamp(now, UTC)
        raise ApiError(
            401,
            f"Timestamp expired: Given timestamp ({given:%Y-%m-%dT%H:%M:%SZ}) not within"
            f" {TIMESTAMP_WINDOW}s of server time ({server:%Y-%m-%dT%H:%M:%SZ})",
        )


def _check_body_md5(value: str | None, body: bytes) -> None:
    # HTTP_API.md §2.3: checked whenever present (the empty body's MD5 included, as
    # pusher-http-python sends it on GET), and required for a non-empty body.
    if value is None:
        if body:
            raise ApiError(401, "Missing body_md5 for a request with a body")
        return
    if value.lower() != body_md5(body):
        raise ApiError(401, "body_md5 does not match the request body")
