"""The app store the node uses with a database: file/env apps first, database apps beside them.

Lookups stay synchronous and in memory; a background task reloads the database every
few seconds, so apps added, disabled or given a new secret apply without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from pusherd.apps import StaticAppStore
from pusherd.protocol.app import App

if TYPE_CHECKING:
    # SQLAlchemy is an optional dependency (the ``db`` extra).
    from pusherd.appstore.sql import SqlApps

logger = logging.getLogger("pusherd.hub")


class LayeredAppStore:
    """Static apps, then the database's; a static app wins an id or key clash.

    Args:
        static: the apps of the config file and the environment.
        database: the apps table.
        refresh: seconds between reloads.
    """

    def __init__(self, static: StaticAppStore, database: SqlApps, refresh: float = 5.0) -> None:
        self.static = static
        self.database = database
        self.refresh_interval = refresh
        self._by_id: dict[str, App] = {}
        self._by_key: dict[str, App] = {}
        self._task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()

    def by_id(self, app_id: str) -> App | None:
        return self.static.by_id(app_id) or self._by_id.get(app_id)

    def by_key(self, key: str) -> App | None:
        return self.static.by_key(key) or self._by_key.get(key)

    def all(self) -> list[App]:
        return self.static.all() + list(self._by_id.values())

    async def start(self) -> None:
        """Create the table if needed, load it, and keep reloading it."""
        await self.database.create_schema()
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._poll())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.database.close()

    async def refresh(self) -> None:
        """Reload the database's apps; the previous ones stay if it cannot be read."""
        by_id: dict[str, App] = {}
        by_key: dict[str, App] = {}
        for app, row in await self.database.load():
            if app is None:
                self._warn_once(
                    f"bad:{row['id']}", "app %s in the database has a bad setting", row["id"]
                )
                continue
            if self.static.by_id(app.id) or self.static.by_key(app.key):
                self._warn_once(
                    f"clash:{app.id}", "database app %s clashes with a configured app", app.id
                )
                continue
            by_id[app.id] = app
            by_key[app.key] = app
        self._by_id, self._by_key = by_id, by_key

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            try:
                await self.refresh()
            except Exception:
                logger.warning("cannot reload apps from the database", exc_info=True)

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)
