"""``POST /apps/{app_id}/users/{user_id}/terminate_connections`` (HTTP_API.md §6)."""

from __future__ import annotations

from server_api.auth import AuthorizedRequest
from server_api.errors import json_response
from server_api.http import ApiResponse
from server_api.hub import Hub


async def terminate_connections(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """Close every connection signed in as the user; an unknown user is not an error.

    The body (``{}`` from the SDKs) is covered by ``body_md5`` but otherwise not read.
    """
    await hub.terminate_user(request.app, request.path_params["user_id"])
    return json_response({})
