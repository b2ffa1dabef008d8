"""Wire strings of protocol 7 (PROTOCOL.md §14, §6.1; WEBHOOKS.md §2)."""

from __future__ import annotations

from pusherd.protocol import names
from pusherd.protocol.names import EventName, WebhookName


def test_event_names_are_the_catalogues() -> None:
    assert {e.value for e in EventName} == {
        "pusher:connection_established",
        "pusher:error",
        "pusher:ping",
        "pusher:pong",
        "pusher:subscribe",
        "pusher:unsubscribe",
        "pusher:signin",
        "pusher:signin_success",
        "pusher:subscription_error",
        "pusher:cache_miss",
        "pusher_internal:subscription_succeeded",
        "pusher_internal:member_added",
        "pusher_internal:member_removed",
        "pusher_internal:subscription_count",
        "pusher_internal:watchlist_events",
    }


def test_event_names_compare_equal_to_their_wire_strings() -> None:
    assert EventName("pusher:ping") is EventName.PING
    assert "pusher:ping" in {EventName.PING}
    assert f"{EventName.ERROR}" == "pusher:error"


def test_every_event_name_has_a_known_prefix() -> None:
    for event in EventName:
        assert event.startswith((names.PUSHER_PREFIX, names.INTERNAL_PREFIX))


def test_webhook_names_are_the_webhook_tables() -> None:
    assert {w.value for w in WebhookName} == {
        "channel_occupied",
        "channel_vacated",
        "member_added",
        "member_removed",
        "client_event",
        "cache_miss",
        "subscription_count",
    }


def test_prefixes_end_with_their_separator() -> None:
    assert names.CLIENT_EVENT_PREFIX == "client-"
    assert [
        names.SERVER_TO_USER_PREFIX,
        names.PRESENCE_CACHE_PREFIX,
        names.PRESENCE_PREFIX,
        names.ENCRYPTED_CACHE_PREFIX,
        names.ENCRYPTED_PREFIX,
        names.PRIVATE_CACHE_PREFIX,
        names.PRIVATE_PREFIX,
        names.CACHE_PREFIX,
    ] == [
        "#server-to-user-",
        "presence-cache-",
        "presence-",
        "private-encrypted-cache-",
        "private-encrypted-",
        "private-cache-",
        "private-",
        "cache-",
    ]
