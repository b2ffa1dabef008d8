"""Finding the real services and tools tests need, and skipping only when they are truly absent.

With ``PUSHERD_REQUIRE_SERVICES=1`` (CI sets it) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("PUSHERD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "PUSHERD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def services_required() -> bool:
    return os.environ.get("PUSHERD_REQUIRE_SERVICES", "") not in ("", "0", "false")


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when services are required."""
    if services_required():
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_redis() -> str:
    if not port_open("127.0.0.1", 6379):
        skip_or_fail("no Redis answers at 127.0.0.1:6379")
    return REDIS_URL


def require_postgres() -> str:
    if not port_open("127.0.0.1", 5432):
        skip_or_fail("no PostgreSQL answers at 127.0.0.1:5432")
    return POSTGRES_URL


def require_node() -> Path:
    """Return the repo's node_modules folder, with node on PATH and the JS clients installed."""
    modules = ROOT / "node_modules"
    if shutil.which("node") is None:
        skip_or_fail("node is not installed")
    if not (modules / "pusher-js").is_dir():
        skip_or_fail("npm packages are not installed (run: npm ci)")
    return modules


def require_chromium() -> tuple[str, str]:
    """Return the paths of chromium and chromedriver."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        skip_or_fail("chromium and chromedriver are not installed")
    assert chromium is not None and driver is not None
    return chromium, driver
