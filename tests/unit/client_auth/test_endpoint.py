import json
import threading
import time
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from client_auth.channels import shared_secret
from client_auth.channels import string_to_sign as channel_string_to_sign
from client_auth.endpoint import AuthConfig, auth_app, auth_routes
from client_auth.serialize import stringify
from client_auth.signatures import verify
from client_auth.users import string_to_sign as user_string_to_sign
from tests.unit.client_auth.credentials import KEY, MASTER_KEY, SECRET, SOCKET_ID

pytestmark = pytest.mark.anyio

# 64 bytes: long enough for every HS* algorithm, so PyJWT warns about none.
JWT_KEY = "a-test-signing-key-long-enough-for-hs512-which-wants-64-bytes-xx"
CONFIG = AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, encryption_master_key=MASTER_KEY)
# What pusher-js's XHR authorizer sends.
FORM = {"content-type": "application/x-www-form-urlencoded"}


def bearer(claims: dict[str, Any] | None = None, *, key: str = JWT_KEY, **headers: str):
    claims = {"sub": "7", "exp": int(time.time()) + 60, **(claims or {})}
    return {"authorization": f"Bearer {jwt.encode(claims, key)}", **headers}


def allow_all(claims, channel):
    return True


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def post_channel(app, channel, headers, socket_id=SOCKET_ID, path="/broadcasting/auth"):
    body = f"socket_id={socket_id}&channel_name={channel}"
    async with client(app) as http:
        return await http.post(path, content=body, headers={**FORM, **headers})


def assert_signed(body, socket_id, channel):
    digest = body["auth"].removeprefix(f"{KEY}:")
    signed = channel_string_to_sign(socket_id, channel, body.get("channel_data"))
    assert verify(SECRET, signed, digest)


async def test_a_private_channel_answers_exactly_the_auth_token():
    response = await post_channel(auth_app(CONFIG, allow_all), "private-orders.1", bearer())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["auth"]
    assert_signed(body, SOCKET_ID, "private-orders.1")


async def test_the_rule_gets_the_claims_and_the_full_channel_name():
    seen = []

    def rule(claims, channel):
        seen.append((claims["sub"], claims["team"], channel))
        return True

    await post_channel(auth_app(CONFIG, rule), "private-orders.1", bearer({"team": "blue"}))
    assert seen == [("7", "blue", "private-orders.1")]


async def test_a_json_body_is_accepted_too():
    async with client(auth_app(CONFIG, allow_all)) as http:
        response = await http.post(
            "/broadcasting/auth",
            json={"socket_id": SOCKET_ID, "channel_name": "private-a"},
            headers=bearer(),
        )
    assert response.status_code == 200
    assert_signed(response.json(), SOCKET_ID, "private-a")


async def test_a_presence_channel_names_the_token_subject_with_its_user_info():
    app = auth_app(CONFIG, allow_all, user_info=lambda claims: {"name": claims["name"]})
    response = await post_channel(app, "presence-room.7", bearer({"sub": 42, "name": "Zoë"}))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"auth", "channel_data"}
    assert body["channel_data"] == '{"user_id":"42","user_info":{"name":"Zoë"}}'
    assert_signed(body, SOCKET_ID, "presence-room.7")


async def test_a_presence_member_has_no_user_info_without_a_user_info_callable():
    response = await post_channel(auth_app(CONFIG, allow_all), "presence-room.7", bearer())
    assert response.json()["channel_data"] == '{"user_id":"7"}'


async def test_presence_data_returned_by_the_rule_is_signed_as_given():
    member = {"user_id": 10, "user_info": {"name": "Mr. Channels", "score": 1.0}}
    response = await post_channel(
        auth_app(CONFIG, lambda claims, channel: member), "presence-foobar", bearer()
    )
    body = response.json()
    assert body["channel_data"] == stringify(member)
    assert body["channel_data"] == '{"user_id":10,"user_info":{"name":"Mr. Channels","score":1}}'
    assert_signed(body, SOCKET_ID, "presence-foobar")


async def test_presence_data_without_a_user_id_is_a_server_error():
    response = await post_channel(
        auth_app(CONFIG, lambda claims, channel: {"user_info": {}}), "presence-a", bearer()
    )
    assert response.status_code == 500
    assert "user_id" in response.json()["error"]


async def test_presence_without_a_subject_claim_is_forbidden():
    response = await post_channel(auth_app(CONFIG, allow_all), "presence-a", bearer({"sub": ""}))
    assert response.status_code == 403
    assert "sub" in response.json()["error"]


async def test_presence_data_that_json_cannot_hold_is_a_server_error():
    rule = lambda claims, channel: {"user_id": "1", "user_info": {1, 2}}  # noqa: E731
    response = await post_channel(auth_app(CONFIG, rule), "presence-a", bearer())
    assert response.status_code == 500
    assert "presence data" in response.json()["error"]


async def test_a_rule_returning_something_else_is_a_server_error():
    response = await post_channel(auth_app(CONFIG, lambda c, n: "yes"), "private-a", bearer())
    assert response.status_code == 500
    assert "str" in response.json()["error"]


async def test_an_encrypted_channel_also_answers_its_shared_secret():
    response = await post_channel(auth_app(CONFIG, allow_all), "private-encrypted-foobar", bearer())
    body = response.json()
    assert set(body) == {"auth", "shared_secret"}
    assert body["shared_secret"] == "g3Au6SZ+UCU+IMfFsFva0rq+Gi4tzSHR6WCcWZbS9sY="
    assert body["shared_secret"] == shared_secret("private-encrypted-foobar", MASTER_KEY)
    assert_signed(body, SOCKET_ID, "private-encrypted-foobar")


async def test_an_encrypted_channel_without_a_master_key_is_a_clear_server_error():
    config = AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY)
    response = await post_channel(auth_app(config, allow_all), "private-encrypted-a", bearer())
    assert response.status_code == 500
    assert "encryption_master_key" in response.json()["error"]


@pytest.mark.parametrize("rule_answer", [False, None])
async def test_a_rule_that_says_no_is_forbidden(rule_answer):
    app = auth_app(CONFIG, lambda claims, channel: rule_answer)
    response = await post_channel(app, "private-orders.2", bearer())
    assert response.status_code == 403
    assert response.json() == {"error": "not allowed to join private-orders.2"}


async def test_an_async_rule_is_awaited():
    async def rule(claims, channel):
        return channel == "private-mine"

    app = auth_app(CONFIG, rule)
    assert (await post_channel(app, "private-mine", bearer())).status_code == 200
    assert (await post_channel(app, "private-theirs", bearer())).status_code == 403


async def test_a_callable_object_with_an_async_call_is_awaited():
    class Rule:
        async def __call__(self, claims, channel):
            return {"user_id": "from-object"}

    response = await post_channel(auth_app(CONFIG, Rule()), "presence-a", bearer())
    assert response.json()["channel_data"] == '{"user_id":"from-object"}'


async def test_a_sync_rule_runs_off_the_event_loop_thread():
    threads = []

    def rule(claims, channel):
        threads.append(threading.get_ident())
        return True

    await post_channel(auth_app(CONFIG, rule), "private-a", bearer())
    assert threads
    assert threads[0] != threading.get_ident()


async def test_a_missing_token_is_unauthorized_with_a_bearer_challenge():
    response = await post_channel(auth_app(CONFIG, allow_all), "private-a", {})
    assert response.status_code == 401
    assert response.json() == {"error": "missing bearer token"}
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer not.a.jwt"]
)
async def test_a_malformed_authorization_header_is_unauthorized(authorization):
    response = await post_channel(
        auth_app(CONFIG, allow_all), "private-a", {"authorization": authorization}
    )
    assert response.status_code == 401


async def test_a_token_signed_with_another_key_is_unauthorized():
    headers = bearer(key=JWT_KEY.upper())
    response = await post_channel(auth_app(CONFIG, allow_all), "private-a", headers)
    assert response.status_code == 401
    assert "Signature verification failed" in response.json()["error"]


async def test_an_expired_token_is_unauthorized():
    headers = bearer({"exp": int(time.time()) - 5})
    response = await post_channel(auth_app(CONFIG, allow_all), "private-a", headers)
    assert response.status_code == 401
    assert response.json() == {"error": "expired bearer token"}


async def test_leeway_tolerates_a_token_that_just_expired():
    config = AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, jwt_leeway=30)
    headers = bearer({"exp": int(time.time()) - 5})
    assert (
        await post_channel(auth_app(config, allow_all), "private-a", headers)
    ).status_code == 200


async def test_a_token_without_expiry_is_unauthorized():
    token = jwt.encode({"sub": "7"}, JWT_KEY)
    response = await post_channel(
        auth_app(CONFIG, allow_all), "private-a", {"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert "exp" in response.json()["error"]


async def test_a_token_with_an_algorithm_not_allowed_is_unauthorized():
    token = jwt.encode({"sub": "7", "exp": int(time.time()) + 60}, JWT_KEY, algorithm="HS512")
    response = await post_channel(
        auth_app(CONFIG, allow_all), "private-a", {"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


async def test_audience_and_issuer_are_enforced_when_configured():
    config = AuthConfig(
        key=KEY, secret=SECRET, jwt_key=JWT_KEY, jwt_audience="helpdesk", jwt_issuer="https://id"
    )
    app = auth_app(config, allow_all)
    good = bearer({"aud": "helpdesk", "iss": "https://id"})
    assert (await post_channel(app, "private-a", good)).status_code == 200
    for claims in ({"aud": "other", "iss": "https://id"}, {"aud": "helpdesk", "iss": "x"}, {}):
        assert (await post_channel(app, "private-a", bearer(claims))).status_code == 401


async def test_an_rs256_token_verifies_with_a_pem_public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = AuthConfig(
        key=KEY, secret=SECRET, jwt_key=public_pem.decode(), jwt_algorithms=("RS256",)
    )
    token = jwt.encode({"sub": "7", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    response = await post_channel(
        auth_app(config, allow_all), "private-a", {"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("socket_id", ["", "1234", "1234.x", "1.2.3", "1.1%0A", "%D9%A1.1"])
async def test_a_malformed_socket_id_is_a_bad_request(socket_id):
    response = await post_channel(auth_app(CONFIG, allow_all), "private-a", bearer(), socket_id)
    assert response.status_code == 400
    assert "socket_id" in response.json()["error"]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("", "channel_name is missing"),
        ("private-a%20b", "not a valid channel name"),
        ("private-" + "a" * 193, "not a valid channel name"),
        ("orders.1", "only private- and presence- channels"),
    ],
)
async def test_a_bad_channel_name_is_a_bad_request(channel, error):
    response = await post_channel(auth_app(CONFIG, allow_all), channel, bearer())
    assert response.status_code == 400
    assert error in response.json()["error"]


@pytest.mark.parametrize("content", [b"{not json", b"[1]", b'"x"', b"\xff"])
async def test_a_json_body_that_is_not_an_object_is_a_bad_request(content):
    async with client(auth_app(CONFIG, allow_all)) as http:
        response = await http.post(
            "/broadcasting/auth",
            content=content,
            headers={"content-type": "application/json", **bearer()},
        )
    assert response.status_code == 400


async def test_an_oversized_body_is_refused():
    body = f"socket_id={SOCKET_ID}&channel_name=private-a&pad=" + "x" * 20000
    async with client(auth_app(CONFIG, allow_all)) as http:
        response = await http.post("/broadcasting/auth", content=body, headers={**FORM, **bearer()})
    assert response.status_code == 413


async def test_only_post_is_routed():
    async with client(auth_app(CONFIG, allow_all)) as http:
        assert (await http.get("/broadcasting/auth", headers=bearer())).status_code == 405


async def post_user(app, headers, socket_id=SOCKET_ID):
    async with client(app) as http:
        return await http.post(
            "/broadcasting/user-auth", content=f"socket_id={socket_id}", headers={**FORM, **headers}
        )


def assert_user_signed(body, socket_id):
    digest = body["auth"].removeprefix(f"{KEY}:")
    assert verify(SECRET, user_string_to_sign(socket_id, body["user_data"]), digest)


async def test_user_sign_in_defaults_to_the_token_subject():
    response = await post_user(auth_app(CONFIG, allow_all), bearer({"sub": 12345}))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"auth", "user_data"}
    assert body["user_data"] == '{"id":"12345"}'
    # AUTH.md §5.3's worked example.
    assert body["auth"].endswith("4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba")
    assert_user_signed(body, SOCKET_ID)


async def test_user_sign_in_uses_a_sync_or_async_user_resolver():
    def sync_user(claims):
        return {"id": claims["sub"], "user_info": {"name": "Ann"}, "watchlist": ["8"]}

    async def async_user(claims):
        return sync_user(claims)

    for resolver in (sync_user, async_user):
        response = await post_user(auth_app(CONFIG, allow_all, user=resolver), bearer())
        body = response.json()
        assert body["user_data"] == '{"id":"7","user_info":{"name":"Ann"},"watchlist":["8"]}'
        assert_user_signed(body, SOCKET_ID)


async def test_user_sign_in_needs_a_valid_token_and_socket_id():
    app = auth_app(CONFIG, allow_all)
    assert (await post_user(app, {})).status_code == 401
    assert (await post_user(app, bearer({"exp": 1}))).status_code == 401
    assert (await post_user(app, bearer(), socket_id="nope")).status_code == 400


async def test_user_sign_in_without_a_subject_is_forbidden():
    response = await post_user(auth_app(CONFIG, allow_all), bearer({"sub": None}))
    assert response.status_code == 403


@pytest.mark.parametrize("resolved", [{"name": "no id"}, {"id": 7}, ["not", "a", "dict"]])
async def test_a_user_resolver_returning_an_unusable_user_is_a_server_error(resolved):
    app = auth_app(CONFIG, allow_all, user=lambda claims: resolved)
    response = await post_user(app, bearer())
    assert response.status_code == 500
    assert "user resolver" in response.json()["error"]


async def test_the_routes_mount_under_custom_paths_in_a_host_app():
    routes = auth_routes(CONFIG, allow_all, channel_path="/pusher/auth", user_path="/pusher/user")
    app = Starlette(routes=[Mount("/api", routes=routes)])
    response = await post_channel(app, "private-a", bearer(), path="/api/pusher/auth")
    assert response.status_code == 200
    async with client(app) as http:
        user = await http.post(
            "/api/pusher/user", content=f"socket_id={SOCKET_ID}", headers={**FORM, **bearer()}
        )
    assert json.loads(user.json()["user_data"]) == {"id": "7"}


def test_the_config_refuses_the_none_algorithm_and_a_short_master_key():
    with pytest.raises(ValueError, match="none"):
        AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, jwt_algorithms=("none",))
    with pytest.raises(ValueError, match="at least one"):
        AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, jwt_algorithms=())
    with pytest.raises(ValueError, match="32 bytes"):
        AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_KEY, encryption_master_key=bytes(16))


def test_the_config_repr_shows_no_secret():
    text = repr(CONFIG)
    assert SECRET not in text
    assert JWT_KEY not in text
    assert KEY in text
