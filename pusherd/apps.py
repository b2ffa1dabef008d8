"""App lookup by id and by key: the in-memory store behind the file and environment config."""

from __future__ import annotations

from collections.abc import Iterable

from pusherd.protocol.app import App


class StaticAppStore:
    """Apps fixed at start-up (config file and environment)."""

    def __init__(self, apps: Iterable[App]) -> None:
        self._by_id: dict[str, App] = {}
        self._by_key: dict[str, App] = {}
        for app in apps:
            self._by_id[app.id] = app
            self._by_key[app.key] = app

    def by_id(self, app_id: str) -> App | None:
        return self._by_id.get(app_id)

    def by_key(self, key: str) -> App | None:
        return self._by_key.get(key)

    def all(self) -> list[App]:
        return list(self._by_id.values())
