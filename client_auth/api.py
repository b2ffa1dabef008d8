"""HTTP API request signing, as the server SDKs do it (HTTP_API.md §2)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from urllib.parse import quote

from client_auth.signatures import sign

EMPTY_BODY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def body_md5(body: bytes) -> str:
    """Return the lowercase hex MD5 of a raw request body."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """Return ``METHOD\\nPATH\\nQUERY`` with ``params`` (decoded values) sorted by lowercased key.

    ``auth_signature`` is left out whatever the caller passes.
    """
    items = sorted((k.lower(), v) for k, v in params.items() if k.lower() != "auth_signature")
    query = "&".join(f"{k}={v}" for k, v in items)
    return f"{method.upper()}\n{path}\n{query}"


def signed_params(
    key: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    params: Mapping[str, str] | None = None,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Return the query parameters of a signed API request, ``auth_signature`` included.

    Args:
        key: the app key.
        secret: the app secret.
        method: ``GET`` or ``POST``.
        path: the path as sent, without a server prefix (``/apps/1/events``).
        body: the raw body; its MD5 is signed when it is not empty.
        params: endpoint parameters (``info``, ``filter_by_prefix``...).
        timestamp: Unix seconds; now when omitted.
    """
    query = dict(params or {})
    query.update(
        auth_key=key,
        auth_timestamp=str(int(time.time()) if timestamp is None else timestamp),
        auth_version="1.0",
    )
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = sign(secret, string_to_sign(method, path, query))
    return query


def encode_query(params: Mapping[str, str]) -> str:
    """Percent-encode ``params`` into a query string (values keep ``,`` readable)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in params.items())
