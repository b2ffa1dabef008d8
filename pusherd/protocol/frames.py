"""Server-to-client WebSocket frames, built once and written to many sockets (RFC 6455 §5.2)."""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def encode_text(payload: bytes) -> bytes:
    """Return an unmasked, final text frame carrying ``payload`` (UTF-8 JSON)."""
    length = len(payload)
    if length < 126:
        return _SHORT.pack(_FIN_TEXT, length) + payload
    if length < 65536:
        return _MEDIUM.pack(_FIN_TEXT, 126, length) + payload
    return _LONG.pack(_FIN_TEXT, 127, length) + payload


def text_frame(message: str) -> bytes:
    return encode_text(message.encode())
