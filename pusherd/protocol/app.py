"""An app's identity, features and limits: the settings the protocol core enforces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Secret:
    """A secret value that never shows in ``repr`` or logs; ``str()`` reveals it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook target of an app (WEBHOOKS.md)."""

    url: str
    event_types: tuple[str, ...]
    filter_prefix: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class App:
    """One app: credentials, switches and per-app limits (LIMITS.md defaults)."""

    id: str
    key: str
    secret: Secret
    name: str = ""
    enabled: bool = True
    ssl_only: bool = False
    enable_client_events: bool = False
    enable_user_authentication: bool = False
    enable_subscription_count: bool = False
    enable_watchlist: bool = False
    #: seconds a connection has to sign in or join a private/presence channel; None: off
    timeout_authorization: float | None = None
    #: seconds an API-published event stays cached on a cache channel
    cache_ttl: float = 1800.0
    limit_max_connections: int | None = None
    limit_client_events_per_second: int = 10
    limit_event_data_bytes: int = 10240
    limit_event_name_length: int = 200
    limit_channel_name_length: int = 200
    limit_channels_per_trigger: int = 100
    limit_batch_events: int = 10
    limit_presence_members: int = 100
    limit_user_info_bytes: int = 1024
    limit_user_id_length: int = 128
    limit_watchlist_size: int = 100
    #: HTTP API requests per second; None: unlimited
    limit_api_requests_per_second: float | None = None
    webhooks: tuple[Webhook, ...] = ()
    webhook_batching: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
