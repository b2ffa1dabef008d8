from typing import Any

import pytest


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """Async tests run on uvloop, as the server does in production."""
    return ("asyncio", {"use_uvloop": True})
