"""Parsing client messages and serializing server messages (PROTOCOL.md §2)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from client_auth.serialize import stringify
from pusherd.protocol.errors import ProtocolViolation
from pusherd.protocol.names import EventName


def _reject_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are JavaScript, not JSON (RFC 8259 §6); relayed, they
    # would make every receiving client's JSON.parse fail.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        # "1e400" overflows to inf, which would be re-serialized as Infinity
        raise ValueError("number out of range")
    return value


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode
#: where a lone surrogate can come from: a \uD800-\uDFFF escape, or one in the text itself
_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]|[\ud800-\udfff]")


#: deeper JSON is refused before it is parsed: no Pusher message nests anywhere near this
MAX_JSON_DEPTH = 64
#: a string (skipped whole, escapes included) or one bracket
_OPENERS = ("[", "{")
_CLOSERS = ("]", "}")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than ``limit`` levels deep.

    Checked before parsing because the parser's recursion is bounded by Python's stack,
    not by anything the peer respects: hitting that bound raises RecursionError at a
    depth of ~1,000, deep in the C parser, with the interpreter's stack nearly exhausted
    (any finalizer the garbage collector runs there fails too). Cheap when it matters:
    texts with few brackets are not scanned.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSERS:
            depth -= 1
    return False


def _decode(text: str) -> Any:
    """Decode JSON whose every string can be sent back as UTF-8, or raise ProtocolViolation."""
    if too_deep(text):
        raise ProtocolViolation
    try:
        value = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation from exc
    if _SURROGATE.search(text) is not None:
        # A lone surrogate has no UTF-8 form: echoing or relaying it would fail later,
        # far from the client that sent it. Paired escapes (emoji) decode and pass.
        try:
            _dumps(value).encode()
        except UnicodeEncodeError as exc:
            raise ProtocolViolation from exc
    return value


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
    value = _decode(text)
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
        parts += [',"user_id":', user_id_json(user_id)]
    parts.append("}")
    return "".join(parts)


def is_user_id_value(value: Any) -> TypeGuard[str | int | float]:
    """Tell whether a presence ``user_id`` is a string or a number JavaScript can hold (§8.1).

    An integer beyond the double range would be ``Infinity`` to ``JSON.parse``.
    """
    if isinstance(value, str | float):
        return True  # floats come from parse_json, which keeps only finite ones
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def user_id_text(user_id: str | int | float) -> str:
    """A user id's string form, the one identity compares: ``String(id)`` in JavaScript (§8.1).

    pusher-js keys members by ``user_id`` after ``JSON.parse``, which reads every number as a
    double: ``1.0`` is ``"1"``, ``1e21`` is ``"1e+21"`` and ``2**64`` is
    ``"18446744073709552000"``, as the presence ``hash`` keys must be.
    """
    if isinstance(user_id, str):
        return user_id
    if isinstance(user_id, int) and -(2**53) <= user_id <= 2**53:
        return str(user_id)
    return stringify(float(user_id))


def user_id_json(user_id: str | int | float) -> str:
    """A user id as JSON, in the type received and as ``JSON.stringify`` writes it (§8.1)."""
    return _dumps(user_id) if isinstance(user_id, str) else user_id_text(user_id)


def member_added_data(user_id: str | int | float, user_info: Any) -> str:
    """The ``data`` of ``pusher_internal:member_added`` (§8.3)."""
    return f'{{"user_id":{user_id_json(user_id)},"user_info":{_dumps(user_info)}}}'


def member_removed_data(user_id: str | int | float) -> str:
    """The ``data`` of ``pusher_internal:member_removed`` (§8.4)."""
    return f'{{"user_id":{user_id_json(user_id)}}}'


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
    return _decode(text)
