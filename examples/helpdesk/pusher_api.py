"""A small async client of pusherd's signed HTTP API: trigger events, list presence users.

Why not the ``pusher`` SDK: it is synchronous (``requests``), so every publish would block
the event loop or take a worker thread. This client signs with ``client_auth.api`` — the
same string-to-sign pusher-http-php builds for a Laravel backend's ``trigger`` — and sends
the same ``POST /apps/{id}/events`` body ``{"name", "channels", "data"}`` with ``data`` a
JSON string, so pusherd cannot tell it from Laravel's broadcaster.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from client_auth.api import encode_query, signed_params
from examples.helpdesk.config import PusherSettings


class PusherApiError(Exception):
    """pusherd refused a request, or could not be reached."""


class PusherApi:
    """Signed requests to one app on pusherd."""

    def __init__(self, settings: PusherSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(timeout=5.0)

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._client.aclose()

    async def _request(self, method: str, path: str, body: bytes = b"") -> Any:
        s = self.settings
        query = encode_query(signed_params(s.key, s.secret, method, path, body))
        url = f"{s.api_base}{path}?{query}"
        try:
            response = await self._client.request(
                method,
                url,
                content=body or None,
                headers={"Content-Type": "application/json"} if body else None,
            )
        except httpx.HTTPError as error:
            raise PusherApiError(f"pusherd unreachable: {error!r}") from error
        if response.status_code != 200:
            raise PusherApiError(f"pusherd answered {response.status_code}: {response.text[:200]}")
        return response.json() if response.content else {}

    async def trigger(
        self, channel: str, name: str, data: str, socket_id: str | None = None
    ) -> None:
        """Publish one event (``data`` already a JSON string) to one channel.

        Raises:
            PusherApiError: pusherd answered other than 200, or was unreachable.
        """
        body: dict[str, Any] = {"name": name, "channels": [channel], "data": data}
        if socket_id:
            body["socket_id"] = socket_id
        encoded = json.dumps(body, separators=(",", ":")).encode()
        await self._request("POST", f"/apps/{self.settings.app_id}/events", encoded)

    async def presence_user_ids(self, channel: str) -> list[str]:
        """The ids of the users subscribed to a presence channel."""
        answer = await self._request(
            "GET", f"/apps/{self.settings.app_id}/channels/{channel}/users"
        )
        return [str(user["id"]) for user in answer.get("users", [])]
