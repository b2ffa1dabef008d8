"""``GET /apps/{app_id}/channels[/{channel_name}[/users]]``: channel state (HTTP_API.md §5)."""

from __future__ import annotations

import math
from typing import Any

from pusherd.protocol.channels import ChannelType, classify
from pusherd.protocol.names import PRESENCE_PREFIX
from server_api.auth import AuthorizedRequest
from server_api.errors import ApiError, json_response
from server_api.http import ApiResponse
from server_api.hub import Hub
from server_api.schemas import (
    CACHE,
    SUBSCRIPTION_COUNT,
    USER_COUNT,
    check_channel_name,
    is_cache_channel,
    is_presence_channel,
    parse_info,
)

_LIST_ATTRIBUTES = frozenset({USER_COUNT, SUBSCRIPTION_COUNT})
_CHANNEL_ATTRIBUTES = frozenset({USER_COUNT, SUBSCRIPTION_COUNT, CACHE})


async def list_channels(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """List occupied channels, optionally filtered by name prefix, with the counts asked for.

    ``user_count`` may only be asked for with a ``presence-`` prefix (HTTP_API.md §5.1).
    """
    prefix = request.params.get("filter_by_prefix", "")
    info = parse_info(request.params.get("info"), _LIST_ATTRIBUTES)
    if USER_COUNT in info and not prefix.startswith(PRESENCE_PREFIX):
        raise ApiError(400, "user_count may only be requested with filter_by_prefix=presence-")
    found = await hub.channels(request.app, prefix)
    channels: dict[str, dict[str, int]] = {}
    for name, stats in sorted(found.items()):
        # Internal channels never show, whatever the hub reports.
        if not stats.occupied or classify(name).type is ChannelType.SERVER_TO_USER:
            continue
        if not name.startswith(prefix):
            continue
        entry: dict[str, int] = {}
        if USER_COUNT in info:
            entry[USER_COUNT] = stats.user_count
        if SUBSCRIPTION_COUNT in info:
            entry[SUBSCRIPTION_COUNT] = stats.subscription_count
        channels[name] = entry
    return json_response({"channels": channels})


async def show_channel(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """Report one channel: ``occupied`` always, plus the ``info`` attributes asked for.

    ``user_count`` is for presence channels and ``cache`` for cache channels only (else 400).
    """
    name = check_channel_name(request.path_params["channel_name"], request.app)
    info = parse_info(request.params.get("info"), _CHANNEL_ATTRIBUTES)
    if USER_COUNT in info and not is_presence_channel(name):
        raise ApiError(400, "user_count may only be requested for presence channels")
    if CACHE in info and not is_cache_channel(name):
        raise ApiError(400, "cache may only be requested for cache channels")
    stats = await hub.channel(request.app, name)
    body: dict[str, Any] = {"occupied": stats.occupied}
    if USER_COUNT in info:
        body[USER_COUNT] = stats.user_count
    if SUBSCRIPTION_COUNT in info:
        body[SUBSCRIPTION_COUNT] = stats.subscription_count
    if CACHE in info:
        if stats.cache is None:
            body[CACHE] = None
        else:
            data, ttl = stats.cache
            body[CACHE] = {"data": data, "ttl": max(0, math.ceil(ttl))}
    return json_response(body)


async def list_users(hub: Hub, request: AuthorizedRequest) -> ApiResponse:
    """List the distinct user ids in a presence channel; other channel types get a 400."""
    name = check_channel_name(request.path_params["channel_name"], request.app)
    if not is_presence_channel(name):
        raise ApiError(400, "Users may only be listed for presence channels")
    user_ids = await hub.presence_users(request.app, name)
    users = [{"id": str(user_id)} for user_id in dict.fromkeys(user_ids)]
    return json_response({"users": users})
