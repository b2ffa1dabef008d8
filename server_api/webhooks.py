"""``/apps/{app_id}/webhooks/dead_letters``: list and replay an app's dead webhook deliveries.

An extension of the Pusher API, signed like every other route (HTTP_API.md §2). A dead
letter is a webhook request that failed for the whole retry window (WEBHOOKS.md §3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from server_api.auth import AuthorizedRequest
from server_api.errors import ApiError, json_response
from server_api.http import ApiResponse


class DeadLetters(Protocol):
    """The server's webhook dispatcher, as the API sees it."""

    async def dead_letters(self, app_id: str) -> list[dict[str, Any]]:
        """The app's dead letters: ``id``, ``url``, ``created_ms``, ``attempts``, ``error``, ``events``."""

    async def replay(self, app_id: str, ids: Iterable[str] | None = None) -> list[str]:
        """Send dead letters again as new deliveries; returns the new delivery ids."""


async def list_dead_letters(webhooks: DeadLetters, request: AuthorizedRequest) -> ApiResponse:
    """Answer ``{"dead_letters": [...]}``, oldest first."""
    return json_response({"dead_letters": await webhooks.dead_letters(request.app.id)})


async def replay_dead_letters(webhooks: DeadLetters, request: AuthorizedRequest) -> ApiResponse:
    """Replay the dead letters named in ``{"ids": [...]}``, or all of them for ``{}``.

    Answers ``{"replayed": n, "ids": [new delivery ids]}``.
    """
    ids: list[str] | None = None
    if request.body.strip():
        try:
            body = json.loads(request.body)
        except ValueError:
            raise ApiError(400, "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        if "ids" in body:
            ids = body["ids"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ApiError(400, "ids must be a list of strings")
    replayed = await webhooks.replay(request.app.id, ids)
    return json_response({"replayed": len(replayed), "ids": replayed})
