"""Comparison with the unmodified pusher-http-python SDK (PyPI ``pusher``), in-process."""

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pusher import Pusher
from pusher.pusher_client import PusherClient

from client_auth.api import EMPTY_BODY_MD5, signed_params, string_to_sign
from client_auth.channels import authorize_channel
from client_auth.channels import string_to_sign as channel_string_to_sign
from client_auth.signatures import token, verify
from client_auth.users import authenticate_user
from client_auth.users import string_to_sign as user_string_to_sign
from client_auth.webhooks import sign_webhook
from tests.unit.client_auth.credentials import APP_ID, KEY, MASTER_KEY, SECRET, SOCKET_ID
from tests.unit.client_auth.strategies import channel_suffixes, channels, master_keys, socket_ids

# Text the Python SDK can carry (it takes str or bytes and encodes UTF-8).
ascii_secrets = st.text("abcdef0123456789", min_size=1, max_size=40)
# Values json.dumps and JSON.stringify write alike: no floats, no integer-like keys.
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=("Cs", "Nd"))), inner, max_size=3
        )
    ),
    max_leaves=8,
)
plain_presence = st.fixed_dictionaries(
    {"user_id": st.text(min_size=1, max_size=10)}, optional={"user_info": plain_values}
)
# The Python SDK allows user ids of channel-name characters only.
plain_users = st.fixed_dictionaries({"id": channel_suffixes}, optional={"user_info": plain_values})


class CompactEncoder(json.JSONEncoder):
    """Makes the SDK's json.dumps write what JSON.stringify writes for plain values."""

    def __init__(self, **kwargs):
        kwargs.update(separators=(",", ":"), ensure_ascii=False)
        super().__init__(**kwargs)


def sdk(secret=SECRET, master_key=MASTER_KEY, encoder=None):
    return Pusher(
        app_id=APP_ID,
        key=KEY,
        secret=secret,
        encryption_master_key_base64=base64.b64encode(master_key).decode(),
        json_encoder=encoder,
    )


@given(ascii_secrets, socket_ids, channels, st.none() | plain_presence, master_keys)
def test_our_verifier_accepts_the_python_sdks_channel_authorization(
    secret, socket_id, channel, data, master_key
):
    theirs = sdk(secret, master_key).authenticate(channel, socket_id, data)
    # The SDK writes channel_data with json.dumps's spaces: verify over its own string.
    channel_data = theirs.get("channel_data")
    assert theirs["auth"] == token(
        KEY, secret, channel_string_to_sign(socket_id, channel, channel_data)
    )
    if channel.startswith("private-encrypted-"):
        ours = authorize_channel(KEY, secret, socket_id, channel, encryption_master_key=master_key)
        assert theirs["shared_secret"].decode() == ours["shared_secret"]


@given(ascii_secrets, socket_ids, channels, st.none() | plain_presence, master_keys)
def test_with_compact_json_the_python_sdk_authorizes_byte_identically(
    secret, socket_id, channel, data, master_key
):
    theirs = sdk(secret, master_key, CompactEncoder).authenticate(channel, socket_id, data)
    if "shared_secret" in theirs:
        theirs["shared_secret"] = theirs["shared_secret"].decode()
    # The SDK treats an empty dict like no data; JSON.stringify and we sign "{}".
    ours = authorize_channel(
        KEY, secret, socket_id, channel, data or None, encryption_master_key=master_key
    )
    assert theirs == ours


@given(ascii_secrets, socket_ids, plain_users)
def test_with_compact_json_the_python_sdk_authenticates_users_byte_identically(
    secret, socket_id, user
):
    theirs = sdk(secret, encoder=CompactEncoder).authenticate_user(socket_id, user)
    assert theirs == authenticate_user(KEY, secret, socket_id, user)


@given(ascii_secrets, socket_ids, plain_users)
def test_our_verifier_accepts_the_python_sdks_user_authentication(secret, socket_id, user):
    theirs = sdk(secret).authenticate_user(socket_id, user)
    digest = theirs["auth"].rpartition(":")[2]
    assert verify(secret, user_string_to_sign(socket_id, theirs["user_data"]), digest)


def test_the_python_sdk_accepts_a_webhook_we_signed():
    body = json.dumps(
        {
            "time_ms": int(time.time() * 1000),
            "events": [{"name": "channel_occupied", "channel": "c"}],
        }
    ).encode()
    signature = sign_webhook(SECRET, body)
    assert sdk().validate_webhook(KEY, signature, body) == json.loads(body)


def test_the_python_sdk_refuses_a_webhook_signed_with_another_secret_or_tampered():
    body = json.dumps({"time_ms": int(time.time() * 1000), "events": []}).encode()
    assert sdk().validate_webhook(KEY, sign_webhook("other", body), body) is None
    assert sdk().validate_webhook(KEY, sign_webhook(SECRET, body), body + b" ") is None


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr("pusher.http.time.time", lambda: 1353088179.0)
    return 1353088179


def _client():
    return PusherClient(app_id=APP_ID, key=KEY, secret=SECRET)


def _assert_signed_alike(request, timestamp):
    params = {k: v for k, v in request.query_params.items() if not k.startswith("auth_")}
    params.pop("body_md5", None)
    if not request.body:
        # The Python SDK sends the empty body's MD5 on GET; sign it as a parameter.
        params["body_md5"] = EMPTY_BODY_MD5
    ours = signed_params(
        KEY, SECRET, request.method, request.path, request.body, params, timestamp=timestamp
    )
    assert ours == request.query_params
    assert verify(
        SECRET,
        string_to_sign(request.method, request.path, request.query_params),
        request.query_params["auth_signature"],
    )


def test_a_python_sdk_trigger_is_signed_as_we_sign_it(frozen_clock):
    request = _client().trigger.make_request(["project-3"], "foo", {"some": "data"})
    _assert_signed_alike(request, frozen_clock)


def test_a_python_sdk_channels_query_is_signed_as_we_sign_it(frozen_clock):
    request = _client().channels_info.make_request("presence-", ["user_count"])
    _assert_signed_alike(request, frozen_clock)


def test_a_python_sdk_users_query_signs_as_in_worked_example_c(frozen_clock):
    request = _client().users_info.make_request("presence-foobar")
    _assert_signed_alike(request, frozen_clock)
    assert request.query_params["auth_signature"] == (
        "3d68b512095fd42cb6741cc80616761b1c77d00fcc4d6d9740f09504a4b761b0"
    )


def test_a_python_sdk_terminate_request_is_signed_as_we_sign_it(frozen_clock):
    request = _client().terminate_user_connections.make_request("12345")
    _assert_signed_alike(request, frozen_clock)


def test_the_python_sdk_reproduces_the_presence_worked_example():
    theirs = sdk(encoder=CompactEncoder).authenticate(
        "presence-foobar", SOCKET_ID, {"user_id": 10, "user_info": {"name": "Mr. Channels"}}
    )
    assert theirs["auth"].endswith(
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    )
