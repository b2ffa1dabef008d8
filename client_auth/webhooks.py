"""Webhook signing and verification (WEBHOOKS.md §1, AUTH.md §5.5)."""

from __future__ import annotations

from client_auth.signatures import sign, verify


def sign_webhook(secret: str, body: bytes) -> str:
    """Return the ``X-Pusher-Signature`` value for the exact body bytes sent."""
    return sign(secret, body)


def verify_webhook(
    key: str, secret: str, header_key: str | None, signature: str | None, body: bytes
) -> bool:
    """Tell whether a received webhook carries this app's key and a valid signature.

    Args:
        key: the app key expected in ``X-Pusher-Key``.
        secret: the app secret.
        header_key: the received ``X-Pusher-Key`` header.
        signature: the received ``X-Pusher-Signature`` header.
        body: the raw body bytes as received.
    """
    if header_key is None or signature is None or header_key != key:
        return False
    return verify(secret, body, signature)
