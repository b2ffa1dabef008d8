import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client_auth.channels import (
    authorize_channel,
    is_valid_channel_name,
    is_valid_socket_id,
    shared_secret,
    string_to_sign,
)
from client_auth.signatures import token, verify
from tests.unit.client_auth.credentials import KEY, MASTER_KEY, SECRET, SOCKET_ID
from tests.unit.client_auth.strategies import (
    channels,
    encrypted_channels,
    keys,
    master_keys,
    presence_channels,
    presence_data,
    private_channels,
    secrets,
    socket_ids,
)


def test_private_channel_auth_matches_the_worked_example():
    assert authorize_channel(KEY, SECRET, SOCKET_ID, "private-foobar") == {
        "auth": f"{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    }


def test_presence_channel_auth_matches_the_worked_example_byte_for_byte():
    result = authorize_channel(
        KEY,
        SECRET,
        SOCKET_ID,
        "presence-foobar",
        {"user_id": 10, "user_info": {"name": "Mr. Channels"}},
    )
    assert json.dumps(result, separators=(",", ":")) == (
        '{"auth":"278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80",'
        '"channel_data":"{\\"user_id\\":10,\\"user_info\\":{\\"name\\":\\"Mr. Channels\\"}}"}'
    )


def test_encrypted_channel_auth_and_shared_secret_match_the_worked_example():
    result = authorize_channel(
        KEY, SECRET, SOCKET_ID, "private-encrypted-foobar", encryption_master_key=MASTER_KEY
    )
    assert result == {
        "auth": f"{KEY}:e6a18892d037c5d5e76a2265df4f086ffc38631605530dfd214aa5bff495f533",
        "shared_secret": "g3Au6SZ+UCU+IMfFsFva0rq+Gi4tzSHR6WCcWZbS9sY=",
    }


def test_presence_without_data_signs_only_socket_and_channel_for_signed_in_users():
    result = authorize_channel(KEY, SECRET, SOCKET_ID, "presence-foobar")
    assert result == {"auth": token(KEY, SECRET, "1234.1234:presence-foobar")}


def test_presence_data_keeps_non_ascii_text_unescaped_as_json_stringify_does():
    result = authorize_channel(
        KEY, SECRET, SOCKET_ID, "presence-r", {"user_id": "u", "user_info": {"name": "Zoë"}}
    )
    assert result["channel_data"] == '{"user_id":"u","user_info":{"name":"Zoë"}}'


def test_an_encrypted_channel_without_a_master_key_is_refused():
    with pytest.raises(ValueError, match="master key"):
        authorize_channel(KEY, SECRET, SOCKET_ID, "private-encrypted-foobar")


def test_a_master_key_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        shared_secret("private-encrypted-foobar", bytes(31))


@pytest.mark.parametrize(
    "socket_id", ["", "1234", "1234.", ".1", "1.2.3", "a.1", "1.1\n", "\u0661.\u0661"]
)
def test_a_malformed_socket_id_is_refused(socket_id):
    assert not is_valid_socket_id(socket_id)
    with pytest.raises(ValueError, match="socket id"):
        authorize_channel(KEY, SECRET, socket_id, "private-foobar")


@pytest.mark.parametrize("channel", ["", "private-a b", "private-é", "private-#x", "p" * 201])
def test_an_invalid_channel_name_is_refused(channel):
    assert not is_valid_channel_name(channel)
    with pytest.raises(ValueError, match="channel name"):
        authorize_channel(KEY, SECRET, SOCKET_ID, channel)


def test_channel_names_of_200_allowed_characters_are_valid():
    assert is_valid_channel_name("private-" + "aZ9_-=@,.;" * 19 + "ab")
    assert is_valid_socket_id("0.0")


def _signed_string(socket_id, channel, result):
    return string_to_sign(socket_id, channel, result.get("channel_data"))


@given(keys, secrets, socket_ids, channels, st.none() | presence_data, master_keys)
def test_an_authorization_verifies_over_its_own_string_to_sign(
    key, secret, socket_id, channel, data, master_key
):
    result = authorize_channel(
        key, secret, socket_id, channel, data, encryption_master_key=master_key
    )
    auth_key, _, digest = result["auth"].rpartition(":")
    assert auth_key == key
    assert verify(secret, _signed_string(socket_id, channel, result), digest)
    assert ("channel_data" in result) == (data is not None)
    assert ("shared_secret" in result) == channel.startswith("private-encrypted-")


@given(secrets, socket_ids, socket_ids, private_channels)
def test_an_authorization_does_not_verify_for_another_socket(secret, socket_id, other, channel):
    if other == socket_id:
        other += "0"
    digest = authorize_channel("k", secret, socket_id, channel)["auth"].rpartition(":")[2]
    assert not verify(secret, string_to_sign(other, channel), digest)


@given(secrets, socket_ids, private_channels, private_channels)
def test_an_authorization_does_not_verify_for_another_channel(secret, socket_id, channel, other):
    if other == channel:
        other += "x"
    digest = authorize_channel("k", secret, socket_id, channel)["auth"].rpartition(":")[2]
    assert not verify(secret, string_to_sign(socket_id, other), digest)


@given(secrets, socket_ids, presence_channels, presence_data, presence_data)
def test_a_presence_authorization_does_not_verify_for_other_channel_data(
    secret, socket_id, channel, data, other
):
    result = authorize_channel("k", secret, socket_id, channel, data)
    other_data = authorize_channel("k", secret, socket_id, channel, other)["channel_data"]
    if other_data == result["channel_data"]:
        other_data += " "
    digest = result["auth"].rpartition(":")[2]
    assert not verify(secret, string_to_sign(socket_id, channel, other_data), digest)
    # Nor without it: the signed-in fallback string is a different string.
    assert not verify(secret, string_to_sign(socket_id, channel), digest)


@given(secrets, secrets, socket_ids, channels)
def test_an_authorization_does_not_verify_under_another_secret(secret, other, socket_id, channel):
    if other == secret:
        other += "x"
    result = authorize_channel("k", secret, socket_id, channel, encryption_master_key=bytes(32))
    digest = result["auth"].rpartition(":")[2]
    assert not verify(other, string_to_sign(socket_id, channel), digest)


@given(keys, keys, secrets, socket_ids, private_channels)
def test_the_token_names_the_key_it_was_made_for(key, other, secret, socket_id, channel):
    if other == key:
        other += "x"
    result = authorize_channel(key, secret, socket_id, channel)
    assert result["auth"] != authorize_channel(other, secret, socket_id, channel)["auth"]


@given(encrypted_channels, master_keys, master_keys)
def test_each_master_key_gives_its_own_shared_secret(channel, master_key, other):
    if other == master_key:
        other = bytes(b ^ 1 for b in other)
    assert shared_secret(channel, master_key) != shared_secret(channel, other)
