"""Pure validation of API input: event bodies, batches, ``info`` lists and channel names.

Every check raises :class:`~server_api.errors.ApiError` (400, or 413 for oversized ``data``)
and nothing else, whatever the input; nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from client_auth.channels import is_valid_socket_id
from pusherd.protocol import channels
from pusherd.protocol.app import App
from pusherd.protocol.channels import classify
from pusherd.protocol.messages import too_deep
from pusherd.protocol.names import INTERNAL_PREFIX, PUSHER_PREFIX
from server_api.errors import ApiError, shorten
from server_api.hub import Publication

RESERVED_EVENT_PREFIXES = (PUSHER_PREFIX, INTERNAL_PREFIX)

USER_COUNT = "user_count"
SUBSCRIPTION_COUNT = "subscription_count"
CACHE = "cache"
#: ``info`` attributes a publish may ask for (HTTP_API.md §3, §4)
EVENT_INFO_ATTRIBUTES = frozenset({USER_COUNT, SUBSCRIPTION_COUNT})


@dataclass(frozen=True, slots=True)
class EventRequest:
    """One validated event to publish, and the ``info`` attributes asked for in the answer."""

    publication: Publication
    info: tuple[str, ...] = ()


def is_presence_channel(name: str) -> bool:
    """Tell whether ``name`` is a presence channel (``presence-cache-`` included)."""
    return classify(name).is_presence


def is_encrypted_channel(name: str) -> bool:
    """Tell whether ``name`` is an end-to-end encrypted channel."""
    return classify(name).is_encrypted


def is_cache_channel(name: str) -> bool:
    """Tell whether ``name`` is a cache channel of any kind (PROTOCOL.md §6.1)."""
    return classify(name).cache


def is_valid_channel_name(name: str, app: App) -> bool:
    """Tell whether ``name`` may be published to or queried, within ``app``'s limits (§6.2)."""
    return channels.is_valid_channel_name(
        name, app.limit_channel_name_length, app.limit_user_id_length
    )


def check_channel_name(name: str, app: App) -> str:
    """Return ``name`` if it is a valid channel name, else raise a 400."""
    if not is_valid_channel_name(name, app):
        raise ApiError(400, f"Invalid channel name: {shorten(name)!r}")
    return name


def check_event_name(name: object, app: App) -> str:
    """Return the event name if it is a 1..limit character string and not reserved, else 400.

    Characters are not restricted: Laravel sends names like ``App\\Events\\OrderShipped``.
    """
    if not isinstance(name, str):
        raise ApiError(400, "Missing or invalid event name: 'name' must be a string")
    if not 1 <= len(name) <= app.limit_event_name_length:
        raise ApiError(
            400, f"Event name must be 1 to {app.limit_event_name_length} characters long"
        )
    if name.startswith(RESERVED_EVENT_PREFIXES):
        raise ApiError(400, f"Event name is reserved: {shorten(name)!r}")
    _check_encodable(name, "name")
    return name


def check_data(data: object) -> str:
    """Return ``data`` if it is a string, else raise a 400 (the size is checked separately)."""
    if not isinstance(data, str):
        raise ApiError(400, "Missing or invalid event data: 'data' must be a string")
    _check_encodable(data, "data")
    return data


def check_data_size(data: str, app: App) -> None:
    """Raise a 413 if ``data`` is over ``app.limit_event_data_bytes`` UTF-8 bytes (LIMITS.md §1)."""
    if len(data.encode()) > app.limit_event_data_bytes:
        raise ApiError(
            413, f"The event data is larger than the allowed {app.limit_event_data_bytes} bytes."
        )


def check_socket_id(socket_id: object) -> str | None:
    """Return the ``socket_id`` to exclude (``None`` when absent), or raise a 400."""
    if socket_id is None:
        return None
    if not is_valid_socket_id(socket_id):
        raise ApiError(400, "Invalid socket_id")
    return socket_id


def parse_info(value: object, allowed: Collection[str]) -> tuple[str, ...]:
    """Return the distinct attributes of a comma list, in order; unknown ones raise a 400.

    Empty items are ignored, so ``""`` and ``None`` ask for nothing.
    """
    if value is None:
        return ()
    if not isinstance(value, str):
        raise ApiError(400, "Invalid info: it must be a comma-separated string")
    attributes: dict[str, None] = {}
    for item in value.split(","):
        attribute = item.strip()
        if not attribute:
            continue
        if attribute not in allowed:
            raise ApiError(400, f"Invalid info attribute: {shorten(attribute)!r}")
        attributes[attribute] = None
    return tuple(attributes)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Return the body parsed as a JSON object; anything else raises a 400 (HTTP_API.md §1)."""
    if too_deep(body):
        raise ApiError(400, "Request body is not valid JSON: nested too deeply")
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return value


def parse_trigger(body: bytes, app: App) -> EventRequest:
    """Validate a ``POST /events`` body (HTTP_API.md §3).

    ``channels`` wins over ``channel`` when both are given; duplicate channels are dropped,
    keeping the first occurrence.

    Raises:
        ApiError: 400 for a malformed body or field, 413 for ``data`` over the size limit.
    """
    fields = parse_json_object(body)
    name = check_event_name(fields.get("name"), app)
    data = check_data(fields.get("data"))
    if "channels" in fields:
        channels = _parse_channel_list(fields["channels"], app)
    elif "channel" in fields:
        channels = (_parse_channel(fields["channel"], app),)
    else:
        raise ApiError(400, "Missing channels: give 'channels' (a list) or 'channel'")
    if len(channels) > 1 and any(is_encrypted_channel(c) for c in channels):
        raise ApiError(400, "Cannot trigger an event on several channels when one is encrypted")
    socket_id = check_socket_id(fields.get("socket_id"))
    info = parse_info(fields.get("info"), EVENT_INFO_ATTRIBUTES)
    check_data_size(data, app)
    return EventRequest(Publication(channels, name, data, socket_id), info)


def parse_batch(body: bytes, app: App) -> list[EventRequest]:
    """Validate a ``POST /batch_events`` body, every item before any is used (HTTP_API.md §4).

    Raises:
        ApiError: 400 for a malformed body or item, 413 for an item's ``data`` over the limit.
    """
    batch = parse_json_object(body).get("batch")
    if not isinstance(batch, list):
        raise ApiError(400, "Missing or invalid batch: 'batch' must be a list")
    if not batch:
        raise ApiError(400, "Batch must contain at least one event")
    if len(batch) > app.limit_batch_events:
        raise ApiError(
            400, f"Cannot batch-send more than {app.limit_batch_events} messages at once"
        )
    return [_parse_batch_item(index, item, app) for index, item in enumerate(batch)]


def _parse_batch_item(index: int, item: object, app: App) -> EventRequest:
    if not isinstance(item, dict):
        raise ApiError(400, f"Batch item {index} must be a JSON object")
    try:
        return _parse_batch_fields(item, app)
    except ApiError as error:
        raise ApiError(error.status, f"Batch item {index}: {error.message}") from None


def _parse_batch_fields(item: Mapping[str, Any], app: App) -> EventRequest:
    name = check_event_name(item.get("name"), app)
    data = check_data(item.get("data"))
    if "channels" in item:
        raise ApiError(400, "A batch event takes one 'channel', not 'channels'")
    if "channel" not in item:
        raise ApiError(400, "Missing channel")
    channel = _parse_channel(item["channel"], app)
    socket_id = check_socket_id(item.get("socket_id"))
    info = parse_info(item.get("info"), EVENT_INFO_ATTRIBUTES)
    check_data_size(data, app)
    return EventRequest(Publication((channel,), name, data, socket_id), info)


def _parse_channel(value: object, app: App) -> str:
    if not isinstance(value, str):
        raise ApiError(400, "Invalid channel: it must be a string")
    return check_channel_name(value, app)


def _parse_channel_list(value: object, app: App) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ApiError(400, "Invalid channels: it must be a list of strings")
    if not value:
        raise ApiError(400, "Missing channels: the list is empty")
    if len(value) > app.limit_channels_per_trigger:
        raise ApiError(
            400, f"Cannot trigger on more than {app.limit_channels_per_trigger} channels at once"
        )
    return tuple(dict.fromkeys(_parse_channel(channel, app) for channel in value))


def _check_encodable(value: str, field: str) -> None:
    # JSON may carry lone surrogates ("\ud800") that no UTF-8 frame can hold.
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ApiError(400, f"Invalid {field}: not valid Unicode text") from None


def _reject_constant(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")
