"""``POST /apps/{app_id}/events`` and ``/batch_events``: publishing events (HTTP_API.md §3, §4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from server_api.auth import AuthorizedRequest
from server_api.errors import json_response
from server_api.http import ApiResponse
from server_api.hub import ChannelStats, Hub
from server_api.schemas import (
    SUBSCRIPTION_COUNT,
    USER_COUNT,
    EventRequest,
    is_presence_channel,
    parse_batch,
    parse_trigger,
)


async def trigger_event(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """Publish one event to its channels; answer ``{}`` or the ``info`` asked for.

    With ``info``: ``{"channels": {name: {attribute: count}}}``, one entry per channel.
    """
    event = parse_trigger(request.body, request.app)
    hub.publish(request.app, [event.publication])
    if not event.info:
        return json_response({})
    stats = await _channel_stats(hub, request, event.publication.channels)
    channels = {
        name: _event_info(name, stats[name], event.info) for name in event.publication.channels
    }
    return json_response({"channels": channels})


async def trigger_batch(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """Publish every event of a batch, in order, once all of them are valid.

    Answers ``{}``, or ``{"batch": [...]}`` aligned with the request when any item asked for
    ``info`` (``{}`` for the items that did not).
    """
    events = parse_batch(request.body, request.app)
    hub.publish(request.app, [event.publication for event in events])
    if not any(event.info for event in events):
        return json_response({})
    wanted = [event.publication.channels[0] for event in events if event.info]
    stats = await _channel_stats(hub, request, wanted)
    batch = [_batch_info(event, stats) for event in events]
    return json_response({"batch": batch})


def _batch_info(event: EventRequest, stats: dict[str, ChannelStats]) -> dict[str, int]:
    if not event.info:
        return {}
    name = event.publication.channels[0]
    return _event_info(name, stats[name], event.info)


async def _channel_stats(
    hub: Hub, request: AuthorizedRequest, names: Iterable[str]
) -> dict[str, ChannelStats]:
    # Counts are read after publishing, once per distinct channel.
    stats: dict[str, ChannelStats] = {}
    for name in names:
        if name not in stats:
            stats[name] = await hub.channel(request.app, name)
    return stats


def _event_info(name: str, stats: ChannelStats, attributes: Sequence[str]) -> dict[str, Any]:
    # HTTP_API.md §3: user_count is "reported for presence channels only and simply left out
    # for the others"; subscription_count for every channel type.
    info: dict[str, Any] = {}
    if USER_COUNT in attributes and is_presence_channel(name):
        info[USER_COUNT] = stats.user_count
    if SUBSCRIPTION_COUNT in attributes:
        info[SUBSCRIPTION_COUNT] = stats.subscription_count
    return info
