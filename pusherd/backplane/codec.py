"""Node-to-node envelopes and their msgpack encoding.

An envelope carries a message already serialized as the JSON text clients receive, so a
node that receives it only frames it once and writes it to its local subscribers.

On the wire an envelope is a msgpack array of strings after a version number, with
``""`` for an absent field, because the Lua scripts in :mod:`pusherd.backplane.redis`
build some envelopes themselves with ``cmsgpack.pack``::

    [1, kind, origin, app_id, target, message, exclude, cache_event, cache_data, serial]

Trailing fields may be left out; a reader fills them with ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import msgpack

VERSION = 1


class Kind(StrEnum):
    """What the receiving node does with an envelope."""

    #: write ``message`` to the channel ``target``'s subscribers
    CHANNEL = "c"
    #: write ``message`` to the connections signed in as user ``target``
    USER = "u"
    #: close the connections signed in as user ``target`` with 4009
    TERMINATE = "t"
    #: as CHANNEL, for a presence ``member_added``, which the node notes as shown
    MEMBER_ADDED = "a"
    #: as CHANNEL, for a presence ``member_removed``, which the node notes as shown
    MEMBER_REMOVED = "r"
    #: for node ``target`` alone, after it restated itself: ``message`` is the JSON list
    #: ``[[app_id, channel, {user_id: user_info JSON}], ...]`` of its presence channels
    SYNC = "s"


class EnvelopeError(ValueError):
    """Bytes that are not an envelope of a version this node reads."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event (or command) for every node of the cluster."""

    kind: Kind
    app_id: str
    target: str
    message: str = ""
    #: the socket id not to deliver to (the sender of a client event, the API's socket_id)
    exclude: str = ""
    #: the node that published it and already delivered it locally; "" for every node
    origin: str = ""
    #: for cache channels: the event to remember as the channel's last one
    cache_event: str = ""
    cache_data: str = ""
    #: member envelopes: the presence channel's count of member changes after this one
    serial: int = 0


def encode(envelope: Envelope, origin: str | None = None) -> bytes:
    """Serialize an envelope to msgpack, stamped with ``origin`` when given."""
    packed: bytes = msgpack.packb(
        (
            VERSION,
            envelope.kind.value,
            envelope.origin if origin is None else origin,
            envelope.app_id,
            envelope.target,
            envelope.message,
            envelope.exclude,
            envelope.cache_event,
            envelope.cache_data,
            str(envelope.serial) if envelope.serial else "",
        ),
        use_bin_type=True,
    )
    return packed


def decode(data: bytes) -> Envelope:
    """Parse an envelope.

    Raises:
        EnvelopeError: not a msgpack envelope of version 1.
    """
    try:
        fields = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise EnvelopeError("not msgpack") from exc
    if not isinstance(fields, list) or len(fields) < 6 or fields[0] != VERSION:
        raise EnvelopeError("not a version 1 envelope")
    if not all(isinstance(field, str) for field in fields[1:]):
        raise EnvelopeError("envelope fields must be strings")
    try:
        kind = Kind(fields[1])
    except ValueError:
        raise EnvelopeError(f"unknown envelope kind {fields[1]!r}") from None
    rest = fields[6:10] + [""] * (10 - max(6, len(fields)))
    if rest[3] and not (rest[3].isascii() and rest[3].isdigit()):
        raise EnvelopeError("an envelope's serial must be a number")
    serial = int(rest[3] or 0)
    return Envelope(
        kind, fields[3], fields[4], fields[5], rest[0], fields[2], rest[1], rest[2], serial
    )
