"""The API's error type and the JSON answers built from it (HTTP_API.md §1, §7)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from server_api.http import ApiResponse


def json_response(
    payload: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()
) -> ApiResponse:
    """Return ``payload`` serialized as compact JSON with ``status`` and extra ``headers``.

    ``ensure_ascii`` keeps the body valid UTF-8 whatever strings a caller echoes back.
    """
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
    return ApiResponse(status=status, body=body, headers=tuple(headers))


class ApiError(Exception):
    """A request the API refuses: its status, Pusher-style message and extra headers.

    Args:
        status: the HTTP status, 400 or above ("never a status 200 error", HTTP_API.md §7).
        message: the text sent as ``{"error": message}``.
        headers: extra response headers, e.g. ``Retry-After`` on 429.
    """

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"an error status must be 4xx or 5xx, not {status}")
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = tuple(headers)

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r})"

    def to_response(self) -> ApiResponse:
        """Return the JSON answer ``{"error": message}`` with this error's status."""
        return json_response({"error": self.message}, self.status, self.headers)


def shorten(value: str, limit: int = 64) -> str:
    """Return ``value`` cut to ``limit`` characters, so error texts never echo whole payloads."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
