"""The auth endpoint, served by uvicorn, asked for tokens by the real pusher-js and Laravel Echo."""

import json
import subprocess
import threading
import time
from collections.abc import Iterator

import jwt
import pytest
import uvicorn

from client_auth.channels import shared_secret
from client_auth.channels import string_to_sign as channel_string_to_sign
from client_auth.endpoint import AuthConfig, auth_app
from client_auth.signatures import verify
from client_auth.users import string_to_sign as user_string_to_sign
from tests.services import ROOT, require_node

pytestmark = pytest.mark.node

KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
JWT_KEY = "an-hs256-key-of-at-least-thirty-two-bytes"
MASTER_KEY = bytes(range(32))
SOCKET_ID = "1234.5678"


def can_join(claims, channel):
    if channel.startswith("presence-room."):
        return {"user_id": claims["sub"], "user_info": {"name": claims["name"]}}
    return channel in {"private-orders.1", "private-encrypted-vault"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    config = AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, encryption_master_key=MASTER_KEY)
    server = uvicorn.Server(
        uvicorn.Config(
            auth_app(config, can_join),
            host="127.0.0.1",
            port=0,
            ws="none",
            lifespan="off",
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def ask_clients(base_url: str, token: str, channels: list[str]) -> dict:
    require_node()
    request = {
        "baseUrl": base_url,
        "token": token,
        "key": KEY,
        "socketId": SOCKET_ID,
        "channels": channels,
    }
    completed = subprocess.run(
        ["node", str(ROOT / "tests" / "js" / "pusher_js_authorizers.mjs"), json.dumps(request)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(completed.stdout)


def jwt_for(sub: str, *, expires_in: int = 60) -> str:
    claims = {"sub": sub, "name": "Ann", "exp": int(time.time()) + expires_in}
    return jwt.encode(claims, JWT_KEY)


def assert_channel_token(answer: dict, channel: str) -> None:
    data = answer["data"]
    digest = data["auth"].removeprefix(f"{KEY}:")
    signed = channel_string_to_sign(SOCKET_ID, channel, data.get("channel_data"))
    assert verify(SECRET, signed, digest)


def test_pusher_js_gets_private_presence_and_encrypted_tokens_and_a_403(base_url):
    channels = [
        "private-orders.1",
        "presence-room.7",
        "private-encrypted-vault",
        "private-orders.2",
    ]
    answers = ask_clients(base_url, jwt_for("42"), channels)["pusherJs"]["channels"]
    assert_channel_token(answers["private-orders.1"], "private-orders.1")
    assert answers["private-orders.1"]["data"].keys() == {"auth"}
    assert_channel_token(answers["presence-room.7"], "presence-room.7")
    assert json.loads(answers["presence-room.7"]["data"]["channel_data"]) == {
        "user_id": "42",
        "user_info": {"name": "Ann"},
    }
    assert_channel_token(answers["private-encrypted-vault"], "private-encrypted-vault")
    assert answers["private-encrypted-vault"]["data"]["shared_secret"] == shared_secret(
        "private-encrypted-vault", MASTER_KEY
    )
    assert answers["private-orders.2"]["error"]["status"] == 403


def test_pusher_js_signs_in_as_the_token_subject(base_url):
    user = ask_clients(base_url, jwt_for("42"), [])["pusherJs"]["user"]["data"]
    assert user["user_data"] == '{"id":"42"}'
    digest = user["auth"].removeprefix(f"{KEY}:")
    assert verify(SECRET, user_string_to_sign(SOCKET_ID, user["user_data"]), digest)


def test_echo_prefixes_channel_names_and_sends_its_bearer_token_to_the_default_paths(base_url):
    result = ask_clients(base_url, jwt_for("42"), [])
    assert result["echoNames"] == ["private-orders.1", "presence-room.7", "private-encrypted-vault"]
    for channel in result["echoNames"]:
        assert_channel_token(result["echo"]["channels"][channel], channel)
    assert result["echo"]["user"]["data"]["user_data"] == '{"id":"42"}'


def test_an_expired_token_reaches_pusher_js_and_echo_as_401(base_url):
    result = ask_clients(base_url, jwt_for("42", expires_in=-10), ["private-orders.1"])
    statuses = [result["pusherJs"]["channels"]["private-orders.1"]["error"]["status"]]
    statuses.append(result["pusherJs"]["user"]["error"]["status"])
    statuses += [answer["error"]["status"] for answer in result["echo"]["channels"].values()]
    statuses.append(result["echo"]["user"]["error"]["status"])
    assert statuses == [401] * 6
