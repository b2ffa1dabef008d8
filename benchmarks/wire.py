"""The few Pusher protocol-7 frames the load generator sends and reads, and timed event payloads."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from typing import Any

#: A timed payload is ``{"seq":N,"t":NS}``; inside an event frame it is an escaped JSON string.
_TIMING_TEXT = re.compile(r'seq\\?":(\d+),\\?"t\\?":(\d+)')
_TIMING_BYTES = re.compile(rb'seq\\?":(\d+),\\?"t\\?":(\d+)')


def timed_data(seq: int, sent_ns: int, padding: int = 0) -> str:
    """Return an event's ``data``: its number, the send time (``time.time_ns()``), and filler.

    Args:
        seq: the event number, from 0.
        sent_ns: Unix time in nanoseconds when the request leaves the generator.
        padding: extra payload characters, to benchmark larger messages.
    """
    pad = f',"pad":"{"x" * padding}"' if padding else ""
    return f'{{"seq":{seq},"t":{sent_ns}{pad}}}'


def parse_timing(frame: str | bytes) -> tuple[int, int] | None:
    """Return ``(seq, sent_ns)`` from a frame carrying a timed payload, else None.

    A regular expression rather than two ``json.loads`` per delivery keeps the
    generator's CPU per message well below the server's.
    """
    pattern = _TIMING_BYTES if isinstance(frame, bytes) else _TIMING_TEXT
    match = pattern.search(frame)  # type: ignore[arg-type]
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def parse_frame(frame: str | bytes) -> tuple[str, str | None, Any]:
    """Return ``(event, channel, data)`` of a frame, string ``data`` JSON-decoded when it can be.

    Raises:
        ValueError: the frame is not a JSON object with an ``event``.
    """
    message = json.loads(frame)
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise ValueError(f"not a Pusher frame: {frame[:80]!r}")
    data = message.get("data")
    if isinstance(data, str):
        with contextlib.suppress(ValueError):
            data = json.loads(data)
    return message["event"], message.get("channel"), data


def subscribe(channel: str, auth: str | None = None, channel_data: str | None = None) -> str:
    """Return a ``pusher:subscribe`` frame, with ``auth`` for private and presence channels."""
    data: dict[str, str] = {"channel": channel}
    if auth is not None:
        data["auth"] = auth
    if channel_data is not None:
        data["channel_data"] = channel_data
    return json.dumps({"event": "pusher:subscribe", "data": data}, separators=(",", ":"))


def pong() -> str:
    """Return the ``pusher:pong`` reply to a server's ``pusher:ping``."""
    return '{"event":"pusher:pong","data":{}}'


def client_event(channel: str, event: str, data: str) -> str:
    """Return a client event frame; ``data`` is already-serialised JSON, sent as an object."""
    return f'{{"event":{json.dumps(event)},"channel":{json.dumps(channel)},"data":{data}}}'


def trigger_body(channels: Sequence[str], event: str, data: str) -> bytes:
    """Return the JSON body of ``POST /apps/{id}/events`` publishing to 1 to 100 ``channels``."""
    body = {"name": event, "channels": list(channels), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()
