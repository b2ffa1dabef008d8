"""Channel types by prefix and name rules (PROTOCOL.md §6, §11.2, §12.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pusherd.protocol.channels import (
    ChannelKind,
    ChannelType,
    classify,
    is_valid_channel_name,
    is_valid_name_characters,
    is_valid_user_id,
    server_to_user_id,
)

# §6.1, "Classify in this order (first match wins)"
TABLE = [
    ("#server-to-user-12345", ChannelType.SERVER_TO_USER, False),
    ("presence-cache-room", ChannelType.PRESENCE, True),
    ("presence-room", ChannelType.PRESENCE, False),
    ("private-encrypted-cache-x", ChannelType.ENCRYPTED, True),
    ("private-encrypted-x", ChannelType.ENCRYPTED, False),
    ("private-cache-x", ChannelType.PRIVATE, True),
    ("private-x", ChannelType.PRIVATE, False),
    ("cache-location", ChannelType.PUBLIC, True),
    ("my-channel", ChannelType.PUBLIC, False),
    ("privatefoo", ChannelType.PUBLIC, False),
    ("presencefoo", ChannelType.PUBLIC, False),
    ("cachefoo", ChannelType.PUBLIC, False),
    ("Private-x", ChannelType.PUBLIC, False),
    ("public-private-x", ChannelType.PUBLIC, False),
    ("private-presence-x", ChannelType.PRIVATE, False),
    ("presence-private-encrypted-x", ChannelType.PRESENCE, False),
]


@pytest.mark.parametrize(("name", "type_", "cache"), TABLE)
def test_a_name_is_classified_by_its_full_prefix(
    name: str, type_: ChannelType, cache: bool
) -> None:
    assert classify(name) == ChannelKind(type_, cache)


@pytest.mark.parametrize(
    ("type_", "auth", "client_events", "authorizes"),
    [
        (ChannelType.PUBLIC, False, False, False),
        (ChannelType.PRIVATE, True, True, True),
        (ChannelType.ENCRYPTED, True, False, True),
        (ChannelType.PRESENCE, True, True, True),
        (ChannelType.SERVER_TO_USER, True, False, False),
    ],
)
def test_each_type_has_the_rules_of_its_table_row(
    type_: ChannelType, auth: bool, client_events: bool, authorizes: bool
) -> None:
    for cache in (False, True):
        kind = ChannelKind(type_, cache)
        assert kind.needs_auth is auth
        assert kind.allows_client_events is client_events
        assert kind.authorizes_connection is authorizes
        assert kind.is_presence is (type_ is ChannelType.PRESENCE)
        assert kind.is_encrypted is (type_ is ChannelType.ENCRYPTED)


@pytest.mark.parametrize(
    "name", ["a", "-_=@,.;", "AZaz09", "presence-room", "#server-to-user-a@b.c", "a" * 500]
)
def test_names_of_the_allowed_characters_are_valid(name: str) -> None:
    assert is_valid_name_characters(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "a b",
        "a/b",
        "a#b",
        "#",
        "#other",
        "#server-to-user-",
        "#server-to-user-a b",
        "é",
        "a\n",
    ],
)
def test_empty_names_other_characters_and_other_hash_names_are_invalid(name: str) -> None:
    assert not is_valid_name_characters(name)


@given(st.text())
def test_a_valid_name_uses_only_the_allowed_characters(name: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=@,.;")
    if is_valid_name_characters(name):
        body = name.removeprefix("#server-to-user-")
        assert body and set(body) <= allowed


def test_the_user_id_of_a_user_channel_is_its_suffix() -> None:
    assert server_to_user_id("#server-to-user-12345") == "12345"


@pytest.mark.parametrize(
    ("user_id", "valid"),
    [("1", True), ("a" * 128, True), ("a" * 129, False), ("", False), ("a b", False), ("é", False)],
)
def test_a_user_id_is_1_to_128_name_characters(user_id: str, valid: bool) -> None:
    assert is_valid_user_id(user_id) is valid


def test_the_user_id_length_limit_is_configurable() -> None:
    assert is_valid_user_id("abc", max_length=3)
    assert not is_valid_user_id("abcd", max_length=3)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("abc", True),
        ("abcd", False),
        ("#server-to-user-12", True),
        ("#server-to-user-123", False),
        ("#server-to-user-", False),
        ("#other", False),
        ("a b", False),
    ],
)
def test_a_channel_name_to_publish_to_keeps_the_given_limits(name: str, valid: bool) -> None:
    # A user channel is limited by its user id, not by the channel name length (§12.3).
    assert is_valid_channel_name(name, max_length=3, max_user_id_length=2) is valid
