"""The apps table in SQLite or PostgreSQL, through SQLAlchemy's async engine.

One row per app: its id, key, secret, name and enabled flag as columns, and every other
app setting (limits, switches, webhooks) as a JSON object in ``settings``, with the
names of ``[[apps]]`` in the config file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pusherd.config import ConfigError, app_from_spec
from pusherd.protocol.app import App

metadata = sa.MetaData()

apps_table = sa.Table(
    "pusherd_apps",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    sa.Column("secret", sa.String(256), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("settings", sa.Text, nullable=False, default="{}"),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

_COLUMNS = ("id", "key", "secret", "name", "enabled")


class AppNotFound(LookupError):
    """No app has that id."""


class SqlApps:
    """Reads and changes the apps table.

    Args:
        url: an async SQLAlchemy URL: ``sqlite+aiosqlite:///apps.db`` or
            ``postgresql+asyncpg://user@host/db``.
    """

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)

    async def create_schema(self) -> None:
        """Create the table if it does not exist."""
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def load(self) -> list[tuple[App | None, dict[str, Any]]]:
        """Every row: the app it describes (None if a value is bad) and the row itself."""
        async with self.engine.connect() as connection:
            rows = (await connection.execute(sa.select(apps_table))).mappings().all()
        result = []
        for row in rows:
            try:
                result.append((row_to_app(row), dict(row)))
            except ConfigError:
                result.append((None, dict(row)))
        return result

    async def apps(self) -> list[App]:
        return [app for app, _ in await self.load() if app is not None]

    async def add(self, app_id: str, key: str, secret: str, name: str = "", **settings: Any) -> App:
        """Insert an app; its settings are checked as the config file's are.

        Raises:
            ConfigError: a bad setting.
            sqlalchemy.exc.IntegrityError: the id or key is taken.
        """
        row = {"id": app_id, "key": key, "secret": secret, "name": name, "enabled": True}
        row["settings"] = json.dumps(settings, separators=(",", ":"))
        app = row_to_app(row)
        async with self.engine.begin() as connection:
            await connection.execute(sa.insert(apps_table).values(**row))
        return app

    async def set_enabled(self, app_id: str, enabled: bool) -> None:
        await self._update(app_id, enabled=enabled)

    async def set_secret(self, app_id: str, secret: str) -> None:
        await self._update(app_id, secret=secret)

    async def remove(self, app_id: str) -> None:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                sa.delete(apps_table).where(apps_table.c.id == app_id)
            )
        if result.rowcount == 0:
            raise AppNotFound(app_id)

    async def close(self) -> None:
        await self.engine.dispose()

    async def _update(self, app_id: str, **values: Any) -> None:
        statement = (
            sa.update(apps_table)
            .where(apps_table.c.id == app_id)
            .values(**values, updated_at=sa.func.now())
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        if result.rowcount == 0:
            raise AppNotFound(app_id)


def row_to_app(row: Mapping[str, Any]) -> App:
    """Build the app a row describes.

    Raises:
        ConfigError: a bad value in the row.
    """
    settings = json.loads(row.get("settings") or "{}")
    if not isinstance(settings, dict):
        raise ConfigError([f"app {row['id']}: settings must be a JSON object"])
    spec = {**settings, **{name: row[name] for name in _COLUMNS}}
    return app_from_spec(spec, f"app {row['id']}")
