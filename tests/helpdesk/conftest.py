"""Fixtures for the helpdesk: a database per test (SQLite file or a fresh PostgreSQL database),
a fixed clock, and the app behind Starlette's test client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from examples.helpdesk.app import create_app
from examples.helpdesk.config import PusherSettings, Settings
from examples.helpdesk.db import create_engine, migrate, sessionmaker
from examples.helpdesk.seed import create_user
from tests.helpdesk.server import serve_in_thread
from tests.services import require_postgres

START = datetime(2026, 3, 2, 9, 0, 0)
PASSWORD = "pw-for-tests"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine to completion on a fresh loop in another thread (safe inside any loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.sqlite3'}"
        return
    admin_url = require_postgres()
    import asyncpg

    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(plain)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run_sync(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_sync(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A port nothing listens on: these tests run without pusherd, events stay in the outbox.
    return Settings(
        database_url=database_url,
        pusher=PusherSettings(port=free_port()),
        auto_assign=False,
    )


PEOPLE = {
    "buyer": ("buyer@example.test", "Bea Buyer", "buyer"),
    "buyer2": ("buyer2@example.test", "Bo Buyer", "buyer"),
    "seller": ("seller@example.test", "Sid Seller", "seller"),
    "agent": ("agent@example.test", "Ada Agent", "agent"),
    "agent2": ("agent2@example.test", "Abe Agent", "agent"),
}


async def add_people(database_url: str, now: datetime) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        ids = {}
        async with sessionmaker(engine).begin() as session:
            for key, (email, name, role) in PEOPLE.items():
                ids[key] = (await create_user(session, email, name, role, PASSWORD, now)).id
        return ids
    finally:
        await engine.dispose()


class Api:
    """The test client signed in as the people of :data:`PEOPLE`."""

    def __init__(self, client: httpx.Client, ids: dict[str, int], database_url: str) -> None:
        self.client = client
        self.database_url = database_url
        self.ids = ids
        self.tokens: dict[str, str] = {}

    def token(self, who: str) -> str:
        if who not in self.tokens:
            answer = self.client.post(
                "/api/login", json={"email": PEOPLE[who][0], "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            self.tokens[who] = answer.json()["token"]
        return self.tokens[who]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(who)}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(who, method, path, **kwargs)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


@pytest.fixture
def api(settings: Settings, clock: FakeClock) -> Iterator[Api]:
    ids = run_sync(add_people(settings.database_url, clock()))
    app = create_app(settings, clock=clock, ui=False, background=False)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield Api(client, ids, settings.database_url)


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
