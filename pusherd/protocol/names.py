"""Every wire string of protocol 7: event names and channel-name prefixes (PROTOCOL.md §14, §6)."""

from __future__ import annotations

from enum import StrEnum


class EventName(StrEnum):
    """Event names the server sends or understands."""

    CONNECTION_ESTABLISHED = "pusher:connection_established"
    ERROR = "pusher:error"
    PING = "pusher:ping"
    PONG = "pusher:pong"
    SUBSCRIBE = "pusher:subscribe"
    UNSUBSCRIBE = "pusher:unsubscribe"
    SIGNIN = "pusher:signin"
    SIGNIN_SUCCESS = "pusher:signin_success"
    SUBSCRIPTION_ERROR = "pusher:subscription_error"
    CACHE_MISS = "pusher:cache_miss"
    SUBSCRIPTION_SUCCEEDED = "pusher_internal:subscription_succeeded"
    MEMBER_ADDED = "pusher_internal:member_added"
    MEMBER_REMOVED = "pusher_internal:member_removed"
    SUBSCRIPTION_COUNT = "pusher_internal:subscription_count"
    WATCHLIST_EVENTS = "pusher_internal:watchlist_events"


class WebhookName(StrEnum):
    """Webhook event names (WEBHOOKS.md §2)."""

    CHANNEL_OCCUPIED = "channel_occupied"
    CHANNEL_VACATED = "channel_vacated"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    CLIENT_EVENT = "client_event"
    CACHE_MISS = "cache_miss"
    SUBSCRIPTION_COUNT = "subscription_count"


CLIENT_EVENT_PREFIX = "client-"
PUSHER_PREFIX = "pusher:"
INTERNAL_PREFIX = "pusher_internal:"

SERVER_TO_USER_PREFIX = "#server-to-user-"
PRESENCE_CACHE_PREFIX = "presence-cache-"
PRESENCE_PREFIX = "presence-"
ENCRYPTED_CACHE_PREFIX = "private-encrypted-cache-"
ENCRYPTED_PREFIX = "private-encrypted-"
PRIVATE_CACHE_PREFIX = "private-cache-"
PRIVATE_PREFIX = "private-"
CACHE_PREFIX = "cache-"
