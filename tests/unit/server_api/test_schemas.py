"""The pure validators of server_api.schemas (PROTOCOL.md §6.2, HTTP_API.md §3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server_api.errors import ApiError
from server_api.schemas import (
    check_socket_id,
    is_cache_channel,
    is_encrypted_channel,
    is_presence_channel,
    is_valid_channel_name,
    parse_info,
    parse_json_object,
)

from .fakes import APP


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("my-channel", True),
        ("-_=@,.;AZaz09", True),
        ("c" * 200, True),
        ("c" * 201, False),
        ("", False),
        ("a b", False),
        ("a/b", False),
        ("a\n", False),
        ("é", False),
        ("#server-to-user-42", True),
        ("#server-to-user-" + "u" * 128, True),
        ("#server-to-user-" + "u" * 129, False),
        ("#server-to-user-", False),
        ("#server-to-user-a b", False),
        ("#other", False),
        ("server-to-user-1", True),
    ],
)
def test_channel_names_follow_protocol_6_2(name: str, valid: bool) -> None:
    assert is_valid_channel_name(name, APP) is valid


def test_the_channel_name_limit_is_the_apps() -> None:
    assert not is_valid_channel_name("abcd", replace(APP, limit_channel_name_length=3))


@pytest.mark.parametrize(
    ("socket_id", "valid"),
    [
        ("1.2", True),
        ("123.456", True),
        ("1.", False),
        (".2", False),
        ("1.2\n", False),
        ("\u0661.2", False),
        ("1.2.3", False),
        ("a.b", False),
        ("", False),
    ],
)
def test_socket_ids_are_ascii_digits_dot_digits(socket_id: str, valid: bool) -> None:
    if valid:
        assert check_socket_id(socket_id) == socket_id
    else:
        with pytest.raises(ApiError):
            check_socket_id(socket_id)


def test_a_null_socket_id_is_absent() -> None:
    assert check_socket_id(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("user_count", ("user_count",)),
        ("user_count,,user_count", ("user_count",)),
        (" subscription_count , user_count", ("subscription_count", "user_count")),
    ],
)
def test_info_lists_are_split_deduplicated_and_ordered(
    value: str | None, expected: tuple[str, ...]
) -> None:
    assert parse_info(value, {"user_count", "subscription_count"}) == expected


@pytest.mark.parametrize("value", ["cache", "user_count,nope", 5, ["user_count"]])
def test_info_refuses_unknown_attributes_and_non_strings(value: object) -> None:
    with pytest.raises(ApiError) as caught:
        parse_info(value, {"user_count"})
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"1",
        b"null",
        b'"x"',
        b"{",
        b"\xff",
        b"[" * 100_000,
        b'{"a":Infinity}',
        b'{"a":' * 100 + b"1" + b"}" * 100,
    ],
)
def test_only_json_objects_are_bodies(body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_object(body)
    assert caught.value.status == 400


def test_json_bodies_may_be_any_unicode_encoding_json_allows() -> None:
    assert parse_json_object('{"a":"é"}'.encode("utf-16")) == {"a": "é"}


@pytest.mark.parametrize(
    ("name", "presence", "encrypted", "cache"),
    [
        ("presence-x", True, False, False),
        ("presence-cache-x", True, False, True),
        ("private-encrypted-x", False, True, False),
        ("private-encrypted-cache-x", False, True, True),
        ("private-cache-x", False, False, True),
        ("cache-x", False, False, True),
        ("presencex", False, False, False),
        ("x-cache-y", False, False, False),
    ],
)
def test_channel_types_follow_their_full_prefixes(
    name: str, presence: bool, encrypted: bool, cache: bool
) -> None:
    assert (is_presence_channel(name), is_encrypted_channel(name), is_cache_channel(name)) == (
        presence,
        encrypted,
        cache,
    )


def test_api_errors_are_never_2xx() -> None:
    with pytest.raises(ValueError):
        ApiError(200, "fine")
    assert ApiError(413, "big").to_response().body == b'{"error":"big"}'


def test_an_api_errors_repr_shows_status_and_message() -> None:
    assert repr(ApiError(404, "Not found")) == "ApiError(404, 'Not found')"
