"""The helpdesk's settings, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///helpdesk.sqlite3"


@dataclass(frozen=True)
class PusherSettings:
    """Where pusherd is and which app the helpdesk publishes as.

    Attributes:
        app_id: the numeric app id.
        key: the app key, also given to browsers.
        secret: the app secret, used to sign API requests and channel tokens.
        host: pusherd's host, for both the HTTP API and the browsers' WebSocket.
        port: pusherd's port.
        scheme: ``http`` or ``https`` for the API (browsers use ``ws``/``wss`` alike).
    """

    app_id: str = "1001"
    key: str = "helpdesk-key"
    secret: str = "helpdesk-secret"  # noqa: S105 - a demo default, overridden by env
    host: str = "127.0.0.1"
    port: int = 6001
    scheme: str = "http"

    @property
    def api_base(self) -> str:
        """The HTTP API's base URL, ``scheme://host:port``."""
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings:
    """Everything the helpdesk is configured with.

    Attributes:
        database_url: a SQLAlchemy async URL; SQLite file by default.
        jwt_secret: the HS256 key signing sign-in tokens.
        jwt_ttl: seconds a sign-in token stays valid.
        pusher: the pusherd app the helpdesk publishes to.
        auto_assign: assign new tickets to the least-loaded online agent.
        long_pause: seconds after which a gap between messages counts as a pause,
            not a response, in the chat measures.
        sla_check_interval: seconds between SLA scans.
        publish_retry_max: the longest wait, in seconds, between publish retries.
    """

    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str = "helpdesk-demo-jwt-secret-change-me-in-production"  # noqa: S105 - demo default
    jwt_ttl: int = 12 * 3600
    pusher: PusherSettings = field(default_factory=PusherSettings)
    auto_assign: bool = True
    long_pause: float = 2 * 3600.0
    sla_check_interval: float = 30.0
    publish_retry_max: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``HELPDESK_*`` variables, falling back to the defaults."""
        env = os.environ if env is None else env
        base = cls()
        pusher = PusherSettings(
            app_id=env.get("HELPDESK_PUSHER_APP_ID", base.pusher.app_id),
            key=env.get("HELPDESK_PUSHER_KEY", base.pusher.key),
            secret=env.get("HELPDESK_PUSHER_SECRET", base.pusher.secret),
            host=env.get("HELPDESK_PUSHER_HOST", base.pusher.host),
            port=int(env.get("HELPDESK_PUSHER_PORT", base.pusher.port)),
            scheme=env.get("HELPDESK_PUSHER_SCHEME", base.pusher.scheme),
        )
        return cls(
            database_url=env.get("HELPDESK_DATABASE_URL", base.database_url),
            jwt_secret=env.get("HELPDESK_JWT_SECRET", base.jwt_secret),
            jwt_ttl=int(env.get("HELPDESK_JWT_TTL", base.jwt_ttl)),
            pusher=pusher,
            auto_assign=env.get("HELPDESK_AUTO_ASSIGN", "true").lower() in ("1", "true", "yes"),
            long_pause=float(env.get("HELPDESK_LONG_PAUSE", base.long_pause)),
            sla_check_interval=float(
                env.get("HELPDESK_SLA_CHECK_INTERVAL", base.sla_check_interval)
            ),
        )
