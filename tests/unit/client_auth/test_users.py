import json

import pytest
from hypothesis import given

from client_auth.signatures import verify
from client_auth.users import authenticate_user, string_to_sign
from tests.unit.client_auth.credentials import KEY, SECRET, SOCKET_ID
from tests.unit.client_auth.strategies import keys, secrets, socket_ids, users


def test_user_sign_in_matches_the_worked_example_byte_for_byte():
    result = authenticate_user(KEY, SECRET, SOCKET_ID, {"id": "12345"})
    assert json.dumps(result, separators=(",", ":")) == (
        '{"auth":"278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba",'
        '"user_data":"{\\"id\\":\\"12345\\"}"}'
    )


def test_the_string_to_sign_has_two_colons_around_user():
    assert string_to_sign("1.2", '{"id":"1"}') == '1.2::user::{"id":"1"}'


def test_user_data_keeps_the_callers_key_order_and_extra_fields():
    user = {"id": "7", "watchlist": ["8"], "user_info": {"name": "Ann"}}
    result = authenticate_user(KEY, SECRET, SOCKET_ID, user)
    assert result["user_data"] == '{"id":"7","watchlist":["8"],"user_info":{"name":"Ann"}}'


@pytest.mark.parametrize("user", [{}, {"id": ""}, {"id": 7}, {"id": None}, {"name": "x"}])
def test_a_user_without_a_non_empty_string_id_is_refused(user):
    with pytest.raises(ValueError, match='"id"'):
        authenticate_user(KEY, SECRET, SOCKET_ID, user)


def test_a_malformed_socket_id_is_refused():
    with pytest.raises(ValueError, match="socket id"):
        authenticate_user(KEY, SECRET, "1234", {"id": "1"})


@given(keys, secrets, socket_ids, users)
def test_a_sign_in_verifies_over_its_own_user_data(key, secret, socket_id, user):
    result = authenticate_user(key, secret, socket_id, user)
    # The same JSON values; JavaScript writes 1e16 as an integer, so compare numbers as floats.
    assert json.loads(result["user_data"], parse_int=float) == json.loads(
        json.dumps(user), parse_int=float
    )
    auth_key, _, digest = result["auth"].rpartition(":")
    assert auth_key == key
    assert verify(secret, string_to_sign(socket_id, result["user_data"]), digest)


@given(secrets, socket_ids, socket_ids, users)
def test_a_sign_in_does_not_verify_for_another_socket(secret, socket_id, other, user):
    if other == socket_id:
        other += "0"
    result = authenticate_user("k", secret, socket_id, user)
    digest = result["auth"].rpartition(":")[2]
    assert not verify(secret, string_to_sign(other, result["user_data"]), digest)


@given(secrets, socket_ids, users, users)
def test_a_sign_in_does_not_verify_for_other_user_data(secret, socket_id, user, other):
    result = authenticate_user("k", secret, socket_id, user)
    other_data = authenticate_user("k", secret, socket_id, other)["user_data"]
    if other_data == result["user_data"]:
        other_data += " "
    digest = result["auth"].rpartition(":")[2]
    assert not verify(secret, string_to_sign(socket_id, other_data), digest)


@given(secrets, secrets, socket_ids, users)
def test_a_sign_in_does_not_verify_under_another_secret(secret, other, socket_id, user):
    if other == secret:
        other += "x"
    result = authenticate_user("k", secret, socket_id, user)
    digest = result["auth"].rpartition(":")[2]
    assert not verify(other, string_to_sign(socket_id, result["user_data"]), digest)
