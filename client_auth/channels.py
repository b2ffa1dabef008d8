"""Channel authorization tokens for private, presence and encrypted channels (AUTH.md §2, §5)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, TypeGuard

from client_auth.serialize import stringify
from client_auth.signatures import token

# pusher-http-node's validateSocketId and validateChannel (PROTOCOL.md §6.2). [0-9], not \d,
# which also matches non-ASCII digits.
_SOCKET_ID = re.compile(r"[0-9]+\.[0-9]+")
_CHANNEL_NAME = re.compile(r"[-a-zA-Z0-9_=@,.;]+")
MAX_CHANNEL_NAME = 200


def is_valid_socket_id(socket_id: object) -> TypeGuard[str]:
    """Tell whether ``socket_id`` has the ``1234.5678`` form Pusher gives connections."""
    return isinstance(socket_id, str) and _SOCKET_ID.fullmatch(socket_id) is not None


def is_valid_channel_name(channel: object) -> TypeGuard[str]:
    """Tell whether ``channel`` is 1-200 characters of ``a-z A-Z 0-9 _ - = @ , . ;``."""
    return (
        isinstance(channel, str)
        and len(channel) <= MAX_CHANNEL_NAME
        and _CHANNEL_NAME.fullmatch(channel) is not None
    )


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

    The result is byte-identical to pusher-http-node's ``authorizeChannel`` for the same
    arguments.

    Args:
        key: the app key.
        secret: the app secret.
        socket_id: the ``socket_id`` pusher-js posted.
        channel: the channel name pusher-js posted.
        presence_data: for presence channels, ``{"user_id": ..., "user_info": ...}``;
            serialised exactly as pusher-http-node's ``JSON.stringify`` does. Leaving it out
            on a presence channel signs ``socket_id:channel`` only: pusher-js then subscribes
            as the signed-in user (PROTOCOL.md §8.5).
        encryption_master_key: the 32-byte master key, required for
            ``private-encrypted-`` channels.

    Returns:
        ``{"auth": ...}`` plus ``channel_data`` for presence data and ``shared_secret``
        for encrypted channels.

    Raises:
        ValueError: an invalid socket id or channel name, or an encrypted channel without
            a 32-byte master key.
    """
    if not is_valid_socket_id(socket_id):
        raise ValueError(f"invalid socket id: {socket_id!r}")
    if not is_valid_channel_name(channel):
        raise ValueError(f"invalid channel name: {channel!r}")
    channel_data = None if presence_data is None else stringify(presence_data)
    result = {"auth": token(key, secret, string_to_sign(socket_id, channel, channel_data))}
    if channel_data is not None:
        result["channel_data"] = channel_data
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
