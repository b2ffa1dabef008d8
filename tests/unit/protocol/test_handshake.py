"""check_handshake: the upgrade checks of PROTOCOL.md §1.1, in order."""

from __future__ import annotations

from typing import Any

import pytest

from pusherd.protocol.app import App
from pusherd.protocol.errors import (
    AppDisabled,
    AppNotFound,
    ConnectionRefused,
    OverCapacity,
    OverQuota,
    PathNotFound,
    ServerShuttingDown,
    SslOnly,
    UnsupportedProtocol,
)
from pusherd.protocol.handshake import app_key_from_path, check_handshake
from tests.unit.protocol.support import KEY, make_app

QUERY = "protocol=7&client=js&version=8.6.0&flash=false"


def check(
    path: str = f"/app/{KEY}",
    query: str = QUERY,
    *,
    app: App | None = None,
    prefix: str = "",
    tls: bool = False,
    draining: bool = False,
    app_connections: int = 0,
    server_connections: int = 0,
    server_limit: int | None = None,
) -> App:
    apps = {KEY: app or make_app()}
    return check_handshake(
        path,
        query,
        prefix=prefix,
        find_app=apps.get,
        tls=tls,
        draining=draining,
        app_connections=lambda _: app_connections,
        server_connections=server_connections,
        server_limit=server_limit,
    )


def test_pusher_js_connection_url_is_accepted() -> None:
    app = make_app()

    assert check(app=app) is app


@pytest.mark.parametrize("prefix", ["", "/ws", "/a/b"])
def test_the_prefix_comes_before_app(prefix: str) -> None:
    assert check(f"{prefix}/app/{KEY}", prefix=prefix).key == KEY


@pytest.mark.parametrize(
    "path",
    [f"/apps/{KEY}", f"/app/{KEY}/extra", f"/app/{KEY}/", "/app/", "/other", "/", f"/ws/app/{KEY}"],
)
def test_any_other_path_is_4005(path: str) -> None:
    with pytest.raises(PathNotFound):
        check(path)


def test_a_prefixed_server_refuses_the_bare_path() -> None:
    with pytest.raises(PathNotFound):
        check(f"/app/{KEY}", prefix="/ws")


def test_a_percent_encoded_key_is_decoded_but_a_slash_in_it_is_refused() -> None:
    assert app_key_from_path("/app/a%20b", "") == "a b"
    assert app_key_from_path("/app/a%2Fb", "") is None


@pytest.mark.parametrize(
    "query",
    ["", "client=js", "protocol=7", "protocol=4", "protocol=5", "protocol=6", "protocol=07"],
)
def test_a_missing_or_supported_protocol_is_accepted(query: str) -> None:
    assert check(query=query).key == KEY


@pytest.mark.parametrize(
    "query",
    [
        "protocol=3",
        "protocol=8",
        "protocol=",
        "protocol=seven",
        "protocol=7.0",
        "protocol=-7",
        "protocol=%EF%BC%97",
        "protocol=+7",
    ],
)
def test_a_protocol_that_is_not_an_integer_in_4_to_7_is_4007(query: str) -> None:
    with pytest.raises(UnsupportedProtocol):
        check(query=query)


def test_an_unknown_key_is_4001() -> None:
    with pytest.raises(AppNotFound):
        check("/app/unknown")


def test_a_disabled_app_is_4003() -> None:
    with pytest.raises(AppDisabled):
        check(app=make_app(enabled=False))


def test_a_tls_only_app_refuses_plain_ws_with_4000_and_accepts_tls() -> None:
    app = make_app(ssl_only=True)

    with pytest.raises(SslOnly):
        check(app=app)
    assert check(app=app, tls=True) is app


def test_an_app_at_its_connection_quota_is_4004() -> None:
    app = make_app(limit_max_connections=2)

    assert check(app=app, app_connections=1) is app
    with pytest.raises(OverQuota):
        check(app=app, app_connections=2)


def test_a_server_at_its_connection_limit_is_4100() -> None:
    assert check(server_connections=9, server_limit=10).key == KEY
    with pytest.raises(OverCapacity):
        check(server_connections=10, server_limit=10)


def test_a_draining_server_refuses_with_4200() -> None:
    with pytest.raises(ServerShuttingDown):
        check(draining=True)


# "Handshake checks (in this order)": each row wins over every later one.
ALL_WRONG: dict[str, Any] = {
    "draining": True,
    "path": "/apps/x",
    "app": make_app(enabled=False, ssl_only=True, limit_max_connections=0),
    "query": "protocol=1",
    "server_connections": 1,
    "server_limit": 0,
}
ORDER: list[tuple[type[ConnectionRefused], dict[str, Any]]] = [
    (ServerShuttingDown, {}),
    (PathNotFound, {"draining": False}),
    (AppNotFound, {"draining": False, "path": "/app/unknown"}),
    (AppDisabled, {"draining": False, "path": f"/app/{KEY}"}),
    (
        SslOnly,
        {
            "draining": False,
            "path": f"/app/{KEY}",
            "app": make_app(ssl_only=True, limit_max_connections=0),
        },
    ),
    (
        UnsupportedProtocol,
        {"draining": False, "path": f"/app/{KEY}", "app": make_app(limit_max_connections=0)},
    ),
    (
        OverQuota,
        {
            "draining": False,
            "path": f"/app/{KEY}",
            "app": make_app(limit_max_connections=0),
            "query": "",
        },
    ),
    (OverCapacity, {"draining": False, "path": f"/app/{KEY}", "app": make_app(), "query": ""}),
]


@pytest.mark.parametrize(("refusal", "fixed"), ORDER, ids=[r.__name__ for r, _ in ORDER])
def test_the_first_failing_check_in_table_order_decides(
    refusal: type[ConnectionRefused], fixed: dict[str, Any]
) -> None:
    arguments = {**ALL_WRONG, **fixed}
    path = arguments.pop("path")

    with pytest.raises(ConnectionRefused) as raised:
        check(path, **arguments)

    assert type(raised.value) is refusal
