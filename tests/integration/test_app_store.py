"""Apps in SQLite or PostgreSQL: the ``pusherd apps`` CLI, and a running server picking changes up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pusherd.appstore.sql import SqlApps
from pusherd.cli import main
from pusherd.protocol.app import App, Secret
from pusherd.testing import TEST_APP, serve
from tests.integration.helpers import api
from tests.integration.raw import RawClient
from tests.services import require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'apps.db'}"
        return
    yield require_postgres()


@pytest.fixture
def ids(database_url: str) -> Iterator[list[str]]:
    """Unique app ids for one test, removed from the database afterwards."""
    made = [f"t{uuid.uuid4().hex[:10]}" for _ in range(2)]
    yield made

    async def clean() -> None:
        store = SqlApps(database_url)
        for app_id in made:
            with contextlib.suppress(LookupError):
                await store.remove(app_id)
        await store.close()

    asyncio.run(clean())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["apps", *argv])
    return status, capsys.readouterr().out


def test_the_apps_cli_adds_lists_disables_and_rotates_secrets(
    database_url: str, ids: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    app_id = ids[0]
    status, out = run(
        capsys,
        "--database-url",
        database_url,
        "add",
        "--id",
        app_id,
        "--key",
        f"k-{app_id}",
        "--name",
        "Shop",
        "--set",
        "enable_client_events=true",
        "--set",
        "limit_presence_members=5",
    )
    assert status == 0
    added = json.loads(out)
    assert (added["id"], added["key"]) == (app_id, f"k-{app_id}")
    assert len(added["secret"]) == 32

    status, out = run(capsys, "--database-url", database_url, "list", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert {"id": app_id, "key": f"k-{app_id}", "name": "Shop", "enabled": True} in listed
    assert added["secret"] not in out, "list never shows secrets"

    assert run(capsys, "--database-url", database_url, "disable", app_id)[0] == 0
    status, out = run(capsys, "--database-url", database_url, "rotate-secret", app_id)
    rotated = json.loads(out)["secret"]
    assert rotated != added["secret"]

    async def read() -> App:
        store = SqlApps(database_url)
        try:
            return next(a for a in await store.apps() if a.id == app_id)
        finally:
            await store.close()

    app = asyncio.run(read())
    assert (app.enabled, str(app.secret), app.enable_client_events, app.limit_presence_members) == (
        False,
        rotated,
        True,
        5,
    )
    assert run(capsys, "--database-url", database_url, "disable", "no-such-app")[0] == 1
    status = main(["apps", "--database-url", database_url, "add", "--id", app_id])
    assert status == 1, "a taken id is refused"
    bad = main(
        [
            "apps",
            "--database-url",
            database_url,
            "add",
            "--id",
            ids[1],
            "--set",
            "limit_batch_events=-1",
        ]
    )
    assert bad == 1, "settings are checked as the config file's are"


@pytest.mark.anyio
async def test_a_running_server_picks_up_added_disabled_and_rotated_apps(
    database_url: str, ids: list[str]
) -> None:
    app_id = ids[0]
    store = SqlApps(database_url)
    await store.create_schema()
    try:
        async with serve([TEST_APP], app_store_url=database_url, app_store_refresh=0.1) as server:
            key = f"k-{app_id}"
            path = f"/app/{key}?protocol=7"
            assert (await first_reply(server.port, path))["data"]["code"] == 4001

            await store.add(app_id, key, "first-secret", "Live")
            reply = await eventually(
                lambda: first_reply(server.port, path),
                lambda r: r["event"] == "pusher:connection_established",
            )
            assert reply["event"] == "pusher:connection_established"
            app = App(id=app_id, key=key, secret=Secret("first-secret"))
            assert (
                await api(server, "GET", f"/apps/{app_id}/channels", app=app)
            ).status_code == 200

            await store.set_secret(app_id, "second-secret")
            rotated = dataclasses.replace(app, secret=Secret("second-secret"))
            await eventually(
                lambda: api(server, "GET", f"/apps/{app_id}/channels", app=rotated),
                lambda r: r.status_code == 200,
            )
            assert (
                await api(server, "GET", f"/apps/{app_id}/channels", app=app)
            ).status_code == 401

            await store.set_enabled(app_id, False)
            reply = await eventually(
                lambda: first_reply(server.port, path), lambda r: r["event"] == "pusher:error"
            )
            assert reply["data"] == {"code": 4003, "message": "Application disabled"}
            # The configured app is served throughout.
            assert (await first_reply(server.port, f"/app/{TEST_APP.key}?protocol=7"))["event"] == (
                "pusher:connection_established"
            )
    finally:
        await store.close()


async def first_reply(port: int, path: str) -> dict[str, object]:
    client = await RawClient.connect(port, path)
    try:
        return await client.recv_json()
    finally:
        await client.close()


async def eventually(make, accept, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await make()
        if accept(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)
