"""The server under test: address, app credentials, optional PID, and the loopback-only rule."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class TargetError(ValueError):
    """A target that is malformed or not on this machine's loopback interface."""


@dataclass(frozen=True)
class Target:
    """One Pusher-protocol server and the app the benchmark uses on it.

    Attributes:
        host: a loopback address or ``localhost``.
        port: the WebSocket and HTTP API port.
        app_id: the app id used in API paths.
        key: the app key used in the WebSocket path and to sign API requests.
        secret: the app secret.
        pid: the server's process id, to sample its CPU time and memory; optional.
    """

    host: str = "127.0.0.1"
    port: int = 6001
    app_id: str = "app-id"
    key: str = "app-key"
    secret: str = "app-secret"
    pid: int | None = None

    def __post_init__(self) -> None:
        check_loopback(self.host)
        if not 0 < self.port < 65536:
            raise TargetError(f"port out of range: {self.port}")

    @property
    def address(self) -> str:
        """``host:port``, with brackets around an IPv6 host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The protocol-7 WebSocket URL of the app, as pusher-js builds it."""
        return f"ws://{self.address}/app/{self.key}?protocol=7&client=pusherd-bench&version=1.0"

    @property
    def events_path(self) -> str:
        """The signed path of the trigger endpoint."""
        return f"/apps/{self.app_id}/events"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is ``localhost`` or an address in 127.0.0.0/8 or ::1."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_loopback(host: str) -> None:
    """Raise `TargetError` unless ``host`` is a loopback address.

    The benchmark opens thousands of sockets and floods the server; it must never
    be pointed at another machine by mistake, so names other than ``localhost``
    are refused rather than resolved.
    """
    if not is_loopback(host):
        raise TargetError(
            f"refusing non-loopback target {host!r}: use 127.0.0.0/8, ::1 or localhost"
        )


def parse_target(text: str, **credentials: str) -> Target:
    """Parse ``host:port[:pid]`` (IPv6 hosts in brackets: ``[::1]:6001:1234``).

    Args:
        text: the target as given on the command line.
        **credentials: ``app_id``, ``key`` and ``secret`` overrides.

    Raises:
        TargetError: a malformed target, or a host that is not loopback.
    """
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise TargetError(f"expected [host]:port[:pid], got {text!r}")
        parts = [host, *rest[1:].split(":")]
    else:
        parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise TargetError(f"expected host:port[:pid], got {text!r}")
    try:
        port = int(parts[1])
        pid = int(parts[2]) if len(parts) == 3 else None
    except ValueError as exc:
        raise TargetError(f"port and pid must be integers in {text!r}") from exc
    return Target(host=parts[0], port=port, pid=pid, **credentials)


def resolve(host: str) -> str:
    """Return the numeric address to connect to (``localhost`` → ``127.0.0.1``)."""
    check_loopback(host)
    name = host.strip("[]")
    if name.lower() in LOOPBACK_NAMES:
        return socket.gethostbyname("localhost")
    return name
