"""Server settings and apps from defaults, a TOML file, the environment and the command line.

Precedence: command line, then environment (``PUSHERD_<NAME>``), then the file, then
defaults. A bad configuration fails fast with :class:`ConfigError` listing every bad value.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pusherd.protocol.app import App, Secret, Webhook
from pusherd.protocol.names import WebhookName

ENV_PREFIX = "PUSHERD_"
APP_ENV_PREFIX = "PUSHERD_APP_"
#: the app served when none is configured; numeric id because the PyPI SDK requires one
DEV_APP = {"id": "1", "key": "app-key", "secret": "app-secret"}


class ConfigError(Exception):
    """One or more bad configuration values; ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server process is told; passed down, never global."""

    host: str = field(
        default="127.0.0.1", metadata={"help": "address to listen on (0.0.0.0 for all)"}
    )
    port: int = field(default=6001, metadata={"help": "port for WebSocket, HTTP API and health"})
    path_prefix: str = field(
        default="", metadata={"help": "path prefix before /app/{key} and /apps/{id}"}
    )
    timeout_activity: int = field(
        default=120,
        metadata={"help": "seconds of silence before the server pings (activity_timeout)"},
    )
    timeout_pong: float = field(
        default=30.0, metadata={"help": "seconds to wait for any frame after a ping"}
    )
    timeout_sweep: float = field(default=5.0, metadata={"help": "seconds between liveness sweeps"})
    timeout_shutdown: float = field(
        default=10.0, metadata={"help": "grace period in seconds to drain connections on SIGTERM"}
    )
    ws_max_message_bytes: int = field(
        default=102_400, metadata={"help": "largest inbound WebSocket message (close 1009 above)"}
    )
    ws_write_buffer_bytes: int = field(
        default=1_048_576,
        metadata={"help": "unsent bytes per connection before it is closed as slow"},
    )
    limit_max_connections: int | None = field(
        default=None,
        metadata={"help": "server-wide connection limit (close 4100 above); empty: none"},
    )
    limit_http_body_bytes: int = field(
        default=1_048_576, metadata={"help": "largest HTTP request body (413)"}
    )
    webhook_delay: float = field(
        default=3.0,
        metadata={"help": "seconds channel_vacated/member_removed wait for a re-join"},
    )
    webhook_retry_window: float = field(
        default=300.0,
        metadata={"help": "seconds a failing webhook is retried before it is a dead letter"},
    )
    webhook_retry_initial: float = field(
        default=1.0, metadata={"help": "first webhook retry back-off in seconds (doubles)"}
    )
    webhook_timeout: float = field(
        default=5.0, metadata={"help": "seconds one webhook request may take"}
    )
    app_store_url: str | None = field(
        default=None,
        metadata={
            "help": "database of apps besides the file/env ones "
            "(sqlite+aiosqlite:///apps.db, postgresql+asyncpg://...)"
        },
    )
    app_store_refresh: float = field(
        default=5.0, metadata={"help": "seconds between reloads of the app database"}
    )
    ssl_certfile: str | None = field(
        default=None, metadata={"help": "TLS certificate (PEM): serve wss/https"}
    )
    ssl_keyfile: str | None = field(default=None, metadata={"help": "TLS private key (PEM)"})
    log_level: str = field(default="info", metadata={"help": "debug, info, warning or error"})
    log_format: str = field(
        default="text", metadata={"help": "text or json (one JSON object a line)"}
    )
    redis_url: str | None = field(
        default=None, metadata={"help": "redis:// or rediss:// URL to scale over several nodes"}
    )
    redis_prefix: str = field(
        default="pusherd", metadata={"help": "key and channel prefix in Redis"}
    )
    redis_lease: float = field(
        default=3.0,
        metadata={
            "help": "seconds a node may go silent before the others remove its members "
            "(removal takes at most about 1.4 times this)"
        },
    )
    redis_timeout: float = field(
        default=2.0,
        metadata={"help": "seconds to wait for Redis before a node serves its clients alone"},
    )
    apps: tuple[App, ...] = field(default=(), metadata={"cli": False})

    @property
    def uses_default_app(self) -> bool:
        return len(self.apps) == 1 and self.apps[0].extra.get("default") is True


SETTING_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.metadata.get("cli", True)}
APP_FIELDS = {f.name: f for f in dataclasses.fields(App) if f.name != "extra"}
_HINTS = typing.get_type_hints(Settings) | typing.get_type_hints(App)


def load(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    file: str | None = None,
) -> Settings:
    """Build settings from the command line, the environment and a TOML file.

    Args:
        cli: values given on the command line, by setting name (None: not given).
        env: the environment; ``os.environ`` when omitted.
        file: a TOML file; ``PUSHERD_CONFIG`` when omitted.

    Raises:
        ConfigError: listing every bad value.
    """
    env = os.environ if env is None else env
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    problems: list[str] = []
    file = file or env.get("PUSHERD_CONFIG") or None
    raw: dict[str, Any] = {}
    file_apps: list[Any] = []
    if file:
        try:
            data = tomllib.loads(Path(file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([f"config file {file}: {exc}"]) from None
        file_apps = data.pop("apps", [])
        for name, value in data.items():
            if name in SETTING_FIELDS:
                raw[name] = value
            else:
                problems.append(f"config file: unknown setting {name!r}")
    for name in SETTING_FIELDS:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None:
            raw[name] = value
    raw.update(cli)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            values[name] = coerce(value, _HINTS[name])
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    apps = _load_apps(file_apps, env, problems)
    if values.get("log_format", "text") not in ("text", "json"):
        problems.append("log_format: must be text or json")
    if str(values.get("log_level", "info")).lower() not in ("debug", "info", "warning", "error"):
        problems.append("log_level: must be debug, info, warning or error")
    if bool(values.get("ssl_certfile")) != bool(values.get("ssl_keyfile")):
        problems.append("ssl_certfile and ssl_keyfile go together")
    for name in ("port", "timeout_activity", "ws_max_message_bytes", "ws_write_buffer_bytes"):
        if name in values and (values[name] < 0 or (name != "port" and values[name] == 0)):
            problems.append(f"{name}: must be positive")
    for name in ("redis_lease", "redis_timeout"):
        if name in values and values[name] <= 0:
            problems.append(f"{name}: must be positive")
    redis_url = values.get("redis_url")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("redis_url: must start with redis://, rediss:// or unix://")
    prefix = values.get("path_prefix", "")
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        problems.append("path_prefix: must start with / and not end with /")
    if problems:
        raise ConfigError(problems)
    return Settings(**values, apps=apps)


def _load_apps(
    file_apps: list[Any], env: Mapping[str, str], problems: list[str]
) -> tuple[App, ...]:
    specs: list[tuple[str, Mapping[str, Any]]] = []
    if not isinstance(file_apps, list):
        problems.append("config file: apps must be an array of tables ([[apps]])")
        file_apps = []
    for index, spec in enumerate(file_apps):
        specs.append((f"apps[{index}]", spec if isinstance(spec, dict) else {}))
    env_spec = {
        name: env[APP_ENV_PREFIX + name.upper()]
        for name in APP_FIELDS
        if APP_ENV_PREFIX + name.upper() in env
    }
    if env_spec:
        specs.append(("PUSHERD_APP_*", env_spec))
    default = not specs
    if default:
        specs.append(("default app", DEV_APP))
    apps: dict[str, App] = {}
    keys: set[str] = set()
    for where, spec in specs:
        app = _build_app(where, spec, problems)
        if app is None:
            continue
        if app.key in keys and app.id not in apps:
            problems.append(f"{where}: key {app.key!r} is used by another app")
        apps[app.id] = app
        keys.add(app.key)
    if default:
        only = next(iter(apps.values()))
        apps = {only.id: dataclasses.replace(only, extra={"default": True})}
    return tuple(apps.values())


def app_from_spec(spec: Mapping[str, Any], where: str = "app") -> App:
    """Build one app from plain values (strings, numbers, lists), as in ``[[apps]]``.

    Raises:
        ConfigError: listing every bad value.
    """
    problems: list[str] = []
    app = _build_app(where, spec, problems)
    if problems or app is None:
        raise ConfigError(problems)
    return app


def _build_app(where: str, spec: Mapping[str, Any], problems: list[str]) -> App | None:
    values: dict[str, Any] = {}
    before = len(problems)
    for name, value in spec.items():
        if name not in APP_FIELDS:
            problems.append(f"{where}: unknown app setting {name!r}")
            continue
        try:
            values[name] = coerce(value, _HINTS[name])
        except ValueError as exc:
            problems.append(f"{where}.{name}: {exc}")
    for name in ("id", "key", "secret"):
        if not values.get(name):
            problems.append(f"{where}: {name} is required")
    if len(problems) > before:
        return None
    for name, value in values.items():
        if name.startswith("limit_") and value is not None and value <= 0:
            problems.append(f"{where}.{name}: must be positive")
    return App(**values)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(value: Any, hint: Any) -> Any:
    """Turn a file or environment value into the type a setting declares.

    Raises:
        ValueError: the value does not fit.
    """
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (
            isinstance(value, str) and value.strip().lower() in ("", "none", "null")
        ):
            return None
        return coerce(value, args[0])
    if hint is Secret:
        if isinstance(value, Secret):
            return value
        return Secret(str(value))
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
    if hint is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
    if hint is str:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        raise ValueError(f"expected a string, got {value!r}")
    if origin is tuple and typing.get_args(hint)[0] is Webhook:
        return _webhooks(value)
    raise ValueError(f"unsupported setting type {hint!r}")


def _webhooks(value: Any) -> tuple[Webhook, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(
                "expected a JSON list of {url, event_types, filter?, headers?}"
            ) from None
    if not isinstance(value, list):
        raise ValueError("expected a list of {url, event_types, filter?, headers?}")
    hooks = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise ValueError("every webhook needs a url")
        if not item["url"].startswith(("http://", "https://")):
            raise ValueError(f"webhook url {item['url']!r} must start with http:// or https://")
        types_ = item.get("event_types", [])
        if not isinstance(types_, list) or not all(isinstance(t, str) for t in types_):
            raise ValueError("event_types must be a list of strings")
        unknown = sorted(set(types_) - {name.value for name in WebhookName})
        if unknown:
            raise ValueError(f"unknown webhook event types {unknown}")
        headers = item.get("headers", {})
        if not isinstance(headers, dict):
            raise ValueError("headers must be an object")
        conditions = item.get("filter") or {}
        if not isinstance(conditions, dict):
            raise ValueError("filter must be an object")
        prefix = conditions.get("channel_name_starts_with")
        suffix = conditions.get("channel_name_ends_with")
        hooks.append(
            Webhook(
                url=item["url"],
                event_types=tuple(types_),
                filter_prefix=prefix if isinstance(prefix, str) else None,
                filter_suffix=suffix if isinstance(suffix, str) else None,
                headers=tuple((str(k), str(v)) for k, v in headers.items()),
            )
        )
    return tuple(hooks)
