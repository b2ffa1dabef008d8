"""Transport-neutral HTTP request and response values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A parsed HTTP request as the server received it."""

    method: str
    #: the path as sent on the wire (still percent-encoded), without the query string
    path: str
    #: the raw query string, without ``?``
    query: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A status, JSON body and extra headers to send back."""

    status: int
    body: bytes = b"{}"
    headers: tuple[tuple[str, str], ...] = field(default=())
    content_type: str = "application/json"
