"""The HMAC-SHA256 primitive every Pusher signature is made of (AUTH.md §1)."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, string_to_sign: str | bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``string_to_sign`` keyed by ``secret``.

    Args:
        secret: the app secret.
        string_to_sign: text (encoded as UTF-8) or raw bytes.

    Returns:
        64 lowercase hex characters.
    """
    message = string_to_sign.encode() if isinstance(string_to_sign, str) else string_to_sign
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, string_to_sign: str | bytes, signature: str) -> bool:
    """Tell, in constant time, whether ``signature`` is the HMAC of ``string_to_sign``."""
    return hmac.compare_digest(
        sign(secret, string_to_sign).encode(), signature.encode("utf-8", "replace")
    )


def token(key: str, secret: str, string_to_sign: str) -> str:
    """Return the ``key:signature`` token sent in ``auth`` fields."""
    return f"{key}:{sign(secret, string_to_sign)}"
