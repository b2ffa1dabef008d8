"""Byte-for-byte comparison with the unmodified pusher-http-node SDK (npm ``pusher``)."""

import base64
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client_auth.api import signed_params, string_to_sign
from client_auth.channels import authorize_channel
from client_auth.users import authenticate_user
from client_auth.webhooks import sign_webhook
from tests.services import ROOT, require_node
from tests.unit.client_auth.credentials import KEY, MASTER_KEY, SECRET, SOCKET_ID
from tests.unit.client_auth.strategies import (
    channels,
    json_values,
    keys,
    master_keys,
    presence_data,
    query_params,
    secrets,
    socket_ids,
    users,
)

pytestmark = pytest.mark.node

# The fixture outlives each example; hypothesis must not think that is a mistake.
node_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


class NodeSdk:
    """One node process running tests/js/pusher_node_sdk.js, asked one JSON line at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(ROOT / "tests" / "js" / "pusher_node_sdk.js")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def __call__(self, op: str, **request: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the node SDK process exited"
        reply = json.loads(line)
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply["result"]

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def node() -> Iterator[NodeSdk]:
    require_node()
    sdk = NodeSdk()
    yield sdk
    sdk.close()


def test_the_node_sdk_reproduces_the_presence_worked_example(node):
    data = {"user_id": 10, "user_info": {"name": "Mr. Channels"}}
    expected = authorize_channel(KEY, SECRET, SOCKET_ID, "presence-foobar", data)
    assert (
        node(
            "authorizeChannel",
            key=KEY,
            secret=SECRET,
            socketId=SOCKET_ID,
            channel="presence-foobar",
            data=data,
        )
        == expected
    )
    assert expected["auth"].endswith(
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    )


@node_settings
@given(keys, secrets, socket_ids, channels, st.none() | presence_data, master_keys)
def test_channel_authorization_is_byte_identical_to_authorize_channel(
    node, key, secret, socket_id, channel, data, master_key
):
    ours = authorize_channel(
        key, secret, socket_id, channel, data, encryption_master_key=master_key
    )
    theirs = node(
        "authorizeChannel",
        key=key,
        secret=secret,
        socketId=socket_id,
        channel=channel,
        data=data,
        masterKeyBase64=base64.b64encode(master_key).decode(),
    )
    assert theirs == ours


@node_settings
@given(keys, secrets, socket_ids, users)
def test_user_authentication_is_byte_identical_to_authenticate_user(
    node, key, secret, socket_id, user
):
    theirs = node("authenticateUser", key=key, secret=secret, socketId=socket_id, user=user)
    assert theirs == authenticate_user(key, secret, socket_id, user)


@pytest.mark.parametrize("socket_id", ["1234", "1.2.3", "x.1", "1.1\n", ""])
def test_both_refuse_the_same_malformed_socket_ids(node, socket_id):
    with pytest.raises(ValueError, match="socket id"):
        authorize_channel(KEY, SECRET, socket_id, "private-a")
    with pytest.raises(ValueError, match="Invalid socket id"):
        node("authorizeChannel", key=KEY, secret=SECRET, socketId=socket_id, channel="private-a")


@pytest.mark.parametrize("channel", ["private-a b", "private-é", "p" * 201])
def test_both_refuse_the_same_invalid_channel_names(node, channel):
    with pytest.raises(ValueError, match="channel name"):
        authorize_channel(KEY, SECRET, SOCKET_ID, channel)
    with pytest.raises(ValueError, match=r"Invalid channel name|Channel name too long"):
        node("authorizeChannel", key=KEY, secret=SECRET, socketId=SOCKET_ID, channel=channel)


def test_both_refuse_a_user_with_a_numeric_id(node):
    with pytest.raises(ValueError, match='"id"'):
        authenticate_user(KEY, SECRET, SOCKET_ID, {"id": 5})
    with pytest.raises(ValueError, match="Invalid user id"):
        node("authenticateUser", key=KEY, secret=SECRET, socketId=SOCKET_ID, user={"id": 5})


@node_settings
@given(keys, secrets, json_values)
def test_the_node_sdk_accepts_our_webhook_signature_and_signs_alike(node, key, secret, value):
    body = json.dumps({"time_ms": 1, "events": [value]}, ensure_ascii=False)
    ours = sign_webhook(secret, body.encode())
    request = {"key": key, "secret": secret, "headerKey": key, "body": body}
    theirs = node("webhook", signature=ours, **request)
    assert theirs == {"valid": True, "signature": ours}
    tampered = ("1" if ours[0] == "0" else "0") + ours[1:]
    assert node("webhook", signature=tampered, **request)["valid"] is False


@node_settings
@given(
    keys,
    secrets,
    st.sampled_from(["GET", "POST"]),
    st.from_regex(r"/apps/[0-9]{1,6}/[a-z_/-]{1,30}", fullmatch=True),
    st.none() | st.text(min_size=1),
    query_params,
    st.integers(0, 2**31 - 1),
)
def test_api_request_signing_is_byte_identical_to_create_signed_query_string(
    node, key, secret, method, path, body, params, timestamp
):
    query = node(
        "signedQuery",
        key=key,
        secret=secret,
        method=method,
        path=path,
        params=params,
        body=body,
        timestamp=timestamp,
    )
    unsigned, _, signature = query.rpartition("&auth_signature=")
    ours = signed_params(
        key, secret, method, path, (body or "").encode(), params, timestamp=timestamp
    )
    assert signature == ours["auth_signature"]
    assert f"{method}\n{path}\n{unsigned}" == string_to_sign(method, path, ours)


def test_the_node_sdk_derives_the_worked_example_shared_secret(node):
    result = node(
        "authorizeChannel",
        key=KEY,
        secret=SECRET,
        socketId=SOCKET_ID,
        channel="private-encrypted-foobar",
        masterKeyBase64=base64.b64encode(MASTER_KEY).decode(),
    )
    assert result["shared_secret"] == "g3Au6SZ+UCU+IMfFsFva0rq+Gi4tzSHR6WCcWZbS9sY="
