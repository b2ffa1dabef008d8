"""The checks a WebSocket upgrade passes before ``connection_established`` (PROTOCOL.md §1.1)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

from pusherd.protocol.app import App
from pusherd.protocol.errors import (
    AppDisabled,
    AppNotFound,
    OverCapacity,
    OverQuota,
    PathNotFound,
    ServerShuttingDown,
    SslOnly,
    UnsupportedProtocol,
)

SUPPORTED_PROTOCOLS = range(4, 8)


def app_key_from_path(path: str, prefix: str) -> str | None:
    """Return ``{key}`` when ``path`` is exactly ``PREFIX/app/{key}``, else None."""
    head = f"{prefix}/app/"
    if not path.startswith(head):
        return None
    key = unquote(path[len(head) :])
    if not key or "/" in key:
        return None
    return key


def check_handshake(
    path: str,
    query: str,
    *,
    prefix: str,
    find_app: Callable[[str], App | None],
    tls: bool,
    draining: bool,
    app_connections: Callable[[App], int],
    server_connections: int,
    server_limit: int | None,
) -> App:
    """Return the app a connection may join, checking §1.1's table in order.

    Raises:
        ConnectionRefused: the subclass naming the first check that failed.
    """
    if draining:
        raise ServerShuttingDown
    key = app_key_from_path(path, prefix)
    if key is None:
        raise PathNotFound
    app = find_app(key)
    if app is None:
        raise AppNotFound
    if not app.enabled:
        raise AppDisabled
    if app.ssl_only and not tls:
        raise SslOnly
    # "a missing protocol is treated as 7"
    version = dict(parse_qsl(query, keep_blank_values=True)).get("protocol")
    if version is not None and not (
        version.isascii() and version.isdigit() and int(version) in SUPPORTED_PROTOCOLS
    ):
        raise UnsupportedProtocol
    if app.limit_max_connections is not None and app_connections(app) >= app.limit_max_connections:
        raise OverQuota
    if server_limit is not None and server_connections >= server_limit:
        raise OverCapacity
    return app
