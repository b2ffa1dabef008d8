"""Channel authorization tokens for private, presence and encrypted channels (AUTH.md §2, §5)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from client_auth.signatures import token


def string_to_sign(socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """Return ``socket_id:channel`` or, with presence data, ``socket_id:channel:channel_data``."""
    if channel_data is None:
        return f"{socket_id}:{channel}"
    return f"{socket_id}:{channel}:{channel_data}"


def authorize_channel(
    key: str,
    secret: str,
    socket_id: str,
    channel: str,
    presence_data: dict[str, Any] | None = None,
    *,
    encryption_master_key: bytes | None = None,
) -> dict[str, str]:
    """Build the JSON body an auth endpoint returns to pusher-js for one channel.

    Args:
        key: the app key.
        secret: the app secret.
        socket_id: the ``socket_id`` pusher-js posted.
        channel: the channel name pusher-js posted.
        presence_data: for presence channels, ``{"user_id": ..., "user_info": ...}``;
            serialised exactly as pusher-http-node's ``JSON.stringify`` does.
        encryption_master_key: the 32-byte master key, required for
            ``private-encrypted-`` channels.

    Returns:
        ``{"auth": ...}`` plus ``channel_data`` for presence and ``shared_secret``
        for encrypted channels.

    Raises:
        ValueError: a presence channel without ``presence_data``, or an encrypted
            channel without a 32-byte master key.
    """
    result: dict[str, str] = {}
    channel_data = None
    if presence_data is not None:
        channel_data = json.dumps(presence_data, separators=(",", ":"), ensure_ascii=False)
        result["channel_data"] = channel_data
    elif channel.startswith("presence-"):
        raise ValueError("presence channels need presence_data with a user_id")
    result = {
        "auth": token(key, secret, string_to_sign(socket_id, channel, channel_data)),
        **result,
    }
    if channel.startswith("private-encrypted-"):
        if encryption_master_key is None:
            raise ValueError("encrypted channels need the 32-byte encryption master key")
        result["shared_secret"] = shared_secret(channel, encryption_master_key)
    return result


def shared_secret(channel: str, master_key: bytes) -> str:
    """Derive an encrypted channel's base64 secretbox key: ``SHA256(channel || master_key)``."""
    if len(master_key) != 32:
        raise ValueError("the encryption master key must be 32 bytes")
    digest = hashlib.sha256(channel.encode() + master_key).digest()
    return base64.b64encode(digest).decode()
