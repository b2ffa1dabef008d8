"""Parsing client messages and serializing server messages (PROTOCOL.md §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pusherd.protocol.errors import ProtocolViolation
from pusherd.protocol.names import EventName

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.JSONDecoder().decode


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One decoded client frame: the envelope's fields as received."""

    event: str
    data: Any = None
    channel: Any = None


def parse_message(text: str) -> ClientMessage:
    """Decode a text frame into its envelope.

    Raises:
        ProtocolViolation: not JSON, not an object, or ``event`` missing or not a string.
    """
    try:
        value = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation from exc
    if not isinstance(value, dict):
        raise ProtocolViolation
    event = value.get("event")
    if not isinstance(event, str):
        raise ProtocolViolation
    return ClientMessage(event, value.get("data"), value.get("channel"))


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is."""
    return _dumps(value)


def json_size(value: Any) -> int:
    """UTF-8 bytes of a string as is, or of any other value as compact JSON."""
    text = value if isinstance(value, str) else _dumps(value)
    return len(text.encode())


def serialize_event(
    event: str, data: Any = None, channel: str | None = None, user_id: Any = None
) -> str:
    """Serialize a server frame. ``data`` strings stay strings; ``None`` leaves ``data`` out."""
    parts = ['{"event":', _dumps(event)]
    if channel is not None:
        parts += [',"channel":', _dumps(channel)]
    if data is not None:
        parts += [',"data":', _dumps(data)]
    if user_id is not None:
        parts += [',"user_id":', _dumps(user_id)]
    parts.append("}")
    return "".join(parts)


def connection_established(socket_id: str, activity_timeout: int) -> str:
    data = _dumps({"socket_id": socket_id, "activity_timeout": activity_timeout})
    return serialize_event(EventName.CONNECTION_ESTABLISHED, data)


PONG = serialize_event(EventName.PONG, {})
PING = serialize_event(EventName.PING, {})


def subscription_succeeded(channel: str, presence: dict[str, Any] | None = None) -> str:
    data = "{}" if presence is None else _dumps({"presence": presence})
    return serialize_event(EventName.SUBSCRIPTION_SUCCEEDED, data, channel)


def parse_json(text: str) -> Any:
    """Decode JSON embedded in a field (``channel_data``, ``user_data``).

    Raises:
        ProtocolViolation: not JSON.
    """
    try:
        return _loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation from exc
