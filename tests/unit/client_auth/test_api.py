from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from client_auth.api import EMPTY_BODY_MD5, body_md5, encode_query, signed_params, string_to_sign
from client_auth.signatures import verify
from tests.unit.client_auth.credentials import APP_ID, KEY, SECRET, TIMESTAMP
from tests.unit.client_auth.strategies import keys, query_params, query_values, secrets

AUTH = f"auth_key={KEY}&auth_timestamp={TIMESTAMP}&auth_version=1.0"


def test_publishing_signs_as_in_worked_example_a():
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    params = signed_params(KEY, SECRET, "POST", f"/apps/{APP_ID}/events", body, timestamp=TIMESTAMP)
    assert params["body_md5"] == "ec365a775a4cd0599faeb73354201b6f"
    assert string_to_sign("POST", "/apps/3/events", params) == (
        f"POST\n/apps/3/events\n{AUTH}&body_md5=ec365a775a4cd0599faeb73354201b6f"
    )
    assert params["auth_signature"] == (
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )


def test_listing_channels_signs_the_endpoint_params_as_in_worked_example_b():
    params = signed_params(
        KEY,
        SECRET,
        "GET",
        "/apps/3/channels",
        params={"info": "user_count", "filter_by_prefix": "presence-"},
        timestamp=TIMESTAMP,
    )
    assert "body_md5" not in params
    assert params["auth_signature"] == (
        "16819168891cb5dfd72b5c7a5d3d602605b26c6ba1930033b5e2eeeb65010291"
    )


def test_a_get_with_the_empty_body_md5_signs_as_in_worked_example_c():
    params = signed_params(
        KEY,
        SECRET,
        "get",
        "/apps/3/channels/presence-foobar/users",
        params={"body_md5": EMPTY_BODY_MD5},
        timestamp=TIMESTAMP,
    )
    assert params["auth_signature"] == (
        "3d68b512095fd42cb6741cc80616761b1c77d00fcc4d6d9740f09504a4b761b0"
    )


def test_terminating_connections_signs_as_in_worked_example_d():
    params = signed_params(
        KEY, SECRET, "POST", "/apps/3/users/12345/terminate_connections", b"{}", timestamp=TIMESTAMP
    )
    assert params["body_md5"] == "99914b932bd37a50b983c5e7c90ae93b"
    assert params["auth_signature"] == (
        "01fa634edeb0cae84115307cad5c23f65a46cd286461b1c89637a3b5871a8f0e"
    )


def test_the_empty_body_md5_is_the_md5_of_nothing():
    assert body_md5(b"") == EMPTY_BODY_MD5


def test_the_string_to_sign_lowercases_and_sorts_keys_and_leaves_out_the_signature():
    params = {"b": "2", "A": "1", "auth_signature": "x", "Auth_Signature": "y"}
    assert string_to_sign("get", "/p", params) == "GET\n/p\na=1&b=2"


def test_the_string_to_sign_keeps_values_decoded():
    assert string_to_sign("GET", "/p", {"name": "Something else"}) == "GET\n/p\nname=Something else"


def test_encode_query_escapes_separators_and_keeps_commas_readable():
    query = encode_query({"info": "user_count,subscription_count", "q": "a b&c=d/é"})
    assert query == "info=user_count,subscription_count&q=a%20b%26c%3Dd%2F%C3%A9"
    assert dict(parse_qsl(query)) == {"info": "user_count,subscription_count", "q": "a b&c=d/é"}


def _verifies(secret, method, path, params):
    return verify(secret, string_to_sign(method, path, params), params["auth_signature"])


methods = st.sampled_from(["GET", "POST"])
paths = st.from_regex(r"/apps/[0-9]{1,6}/[a-z_/-]{1,30}", fullmatch=True)


@given(keys, secrets, methods, paths, st.binary(), query_params, st.integers(0, 2**32))
def test_a_signed_request_verifies(key, secret, method, path, body, params, timestamp):
    signed = signed_params(key, secret, method, path, body, params, timestamp=timestamp)
    assert signed["auth_key"] == key
    assert signed["auth_timestamp"] == str(timestamp)
    assert ("body_md5" in signed) == bool(body)
    assert _verifies(secret, method, path, signed)


@given(secrets, methods, paths, st.binary(), query_params, st.data())
def test_changing_any_query_param_breaks_the_signature(secret, method, path, body, params, data):
    signed = signed_params("k", secret, method, path, body, params, timestamp=1)
    name = data.draw(st.sampled_from(sorted(set(signed) - {"auth_signature"})))
    value = data.draw(query_values.filter(lambda v: v != signed[name]))
    assert not _verifies(secret, method, path, {**signed, name: value})


@given(secrets, methods, paths, query_params, query_values.filter(lambda v: v != ""))
def test_adding_a_query_param_breaks_the_signature(secret, method, path, params, value):
    signed = signed_params("k", secret, method, path, b"", params, timestamp=1)
    assert not _verifies(secret, method, path, {**signed, "zz_extra": value})


@given(secrets, paths, paths, query_params)
def test_another_path_or_method_breaks_the_signature(secret, path, other, params):
    signed = signed_params("k", secret, "POST", path, b"{}", params, timestamp=1)
    assert not _verifies(secret, "GET", path, signed)
    if other != path:
        assert not _verifies(secret, "POST", other, signed)


@given(secrets, paths, st.binary(min_size=1), st.binary(min_size=1))
def test_another_body_changes_body_md5_and_so_the_signature(secret, path, body, other):
    signed = signed_params("k", secret, "POST", path, body, timestamp=1)
    resigned = signed_params("k", secret, "POST", path, other, timestamp=1)
    assert (signed["body_md5"] == resigned["body_md5"]) == (body == other)
    assert (signed["auth_signature"] == resigned["auth_signature"]) == (body == other)


@given(secrets, secrets, paths, query_params)
def test_another_secret_breaks_the_signature(secret, other, path, params):
    if other == secret:
        other += "x"
    signed = signed_params("k", secret, "GET", path, params=params, timestamp=1)
    assert not _verifies(other, "GET", path, signed)
