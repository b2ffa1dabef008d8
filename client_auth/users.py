"""User authentication tokens for ``pusher:signin`` (AUTH.md §2, §5.3)."""

from __future__ import annotations

import json
from typing import Any

from client_auth.signatures import token


def string_to_sign(socket_id: str, user_data: str) -> str:
    """Return ``socket_id::user::user_data``."""
    return f"{socket_id}::user::{user_data}"


def authenticate_user(
    key: str, secret: str, socket_id: str, user: dict[str, Any]
) -> dict[str, str]:
    """Build the JSON body a user-auth endpoint returns to pusher-js.

    Args:
        key: the app key.
        secret: the app secret.
        socket_id: the ``socket_id`` pusher-js posted.
        user: at least ``{"id": "<non-empty string>"}``; optional ``user_info``, ``watchlist``.

    Returns:
        ``{"auth": ..., "user_data": ...}``.

    Raises:
        ValueError: ``user`` has no non-empty string ``id``.
    """
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError('the user data must contain a non-empty string "id" field')
    user_data = json.dumps(user, separators=(",", ":"), ensure_ascii=False)
    return {
        "auth": token(key, secret, string_to_sign(socket_id, user_data)),
        "user_data": user_data,
    }
