"""A ready Starlette auth endpoint: JWT bearer identity, an app rule, pusher-js-shaped answers.

Needs the ``auth`` extra (starlette, pyjwt); the other ``client_auth`` modules stay stdlib-only.

pusher-js (and Laravel Echo, which drives it) posts ``application/x-www-form-urlencoded``
``socket_id=…&channel_name=…`` to the channel endpoint and ``socket_id=…`` to the user
endpoint, and reads a 200 JSON answer (AUTH.md §4)::

    from client_auth.endpoint import AuthConfig, auth_app

    def can_join(claims, channel):
        # Echo's private('orders.1') reaches the rule as 'private-orders.1',
        # join('room.7') as 'presence-room.7', encryptedPrivate('x') as 'private-encrypted-x'.
        if channel.startswith("private-orders."):
            return channel.removeprefix("private-orders.") in claims.get("orders", [])
        if channel.startswith("presence-room."):
            return {"user_id": claims["sub"], "user_info": {"name": claims["name"]}}
        return False

    app = auth_app(AuthConfig(key=KEY, secret=SECRET, jwt_key=JWT_SECRET), can_join)

On the client, ``new Echo({broadcaster: "pusher", bearerToken: jwt, ...})`` or pusher-js's
``channelAuthorization: {endpoint, headers: {Authorization: "Bearer " + jwt}}``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from client_auth.channels import authorize_channel, is_valid_channel_name, is_valid_socket_id
from client_auth.users import authenticate_user

__all__ = ["AuthConfig", "ChannelRule", "UserResolver", "auth_app", "auth_routes"]

ChannelRule = Callable[
    [dict[str, Any], str],
    bool | dict[str, Any] | Awaitable[bool | dict[str, Any] | None] | None,
]
"""``rule(claims, channel_name)``: ``False``/``None`` denies, ``True`` allows, a dict allows and,
on presence channels, is the member ``{"user_id": ..., "user_info": ...}``. Sync or async."""

UserResolver = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]
"""``user(claims)``: the sign-in user object
``{"id": str, "user_info"?: ..., "watchlist"?: [...]}``. Sync or async."""

# pusher-js sends two short fields; anything far larger is not an auth request.
_MAX_BODY = 16 * 1024

_T = TypeVar("_T")


@dataclass(frozen=True)
class AuthConfig:
    """Settings of the auth endpoint.

    Attributes:
        key: the app key.
        secret: the app secret.
        jwt_key: the HS* shared secret (at least as many bytes as the hash: 32 for HS256,
            or PyJWT warns), or the PEM public key for RS*/ES*/EdDSA tokens.
        jwt_algorithms: the algorithms accepted; never mix HS* with public-key ones.
        jwt_audience: the required ``aud`` claim, if any.
        jwt_issuer: the required ``iss`` claim, if any.
        jwt_leeway: seconds of clock skew tolerated on ``exp``/``nbf``/``iat``.
        encryption_master_key: the 32-byte master key for ``private-encrypted-`` channels.
    """

    key: str
    secret: str
    jwt_key: str
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway: float = 0.0
    encryption_master_key: bytes | None = None

    def __post_init__(self) -> None:
        if not self.jwt_algorithms:
            raise ValueError("jwt_algorithms must name at least one algorithm")
        if "none" in (a.lower() for a in self.jwt_algorithms):
            raise ValueError('the "none" JWT algorithm would accept unsigned tokens')
        if self.encryption_master_key is not None and len(self.encryption_master_key) != 32:
            raise ValueError("the encryption master key must be 32 bytes")

    def __repr__(self) -> str:
        # Keep secrets out of logs and tracebacks.
        return f"AuthConfig(key={self.key!r}, jwt_algorithms={self.jwt_algorithms!r}, ...)"


class _Refusal(Exception):
    """An answer other than 200, with its status and the text sent as ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def to_response(self) -> Response:
        headers = (
            {"WWW-Authenticate": 'Bearer error="invalid_token"'} if self.status == 401 else None
        )
        return JSONResponse({"error": self.message}, status_code=self.status, headers=headers)


def auth_routes(
    config: AuthConfig,
    authorize: ChannelRule,
    *,
    user: UserResolver | None = None,
    user_info: Callable[[dict[str, Any]], Any] | None = None,
    channel_path: str = "/broadcasting/auth",
    user_path: str = "/broadcasting/user-auth",
) -> list[Route]:
    """Return the channel-authorization and user-authentication routes, to mount in any app.

    Args:
        config: keys and JWT settings.
        authorize: the rule deciding who may join which channel. It receives the verified JWT
            claims and the full channel name (``private-orders.1``; Laravel Echo's
            ``private('orders.1')`` is sent as ``private-orders.1``). ``False``/``None`` answers
            403; ``True`` allows, and on presence channels makes the member
            ``{"user_id": str(claims["sub"]), "user_info": user_info(claims)}`` (``user_info``
            left out without a ``user_info`` callable); a dict allows and, on presence channels,
            is the member data itself. Sync rules run in a worker thread, async ones in the loop.
        user: builds the sign-in user object from the claims;
            default ``{"id": str(claims["sub"])}``.
        user_info: builds a presence member's ``user_info`` when the rule returns ``True``.
        channel_path: the path pusher-js's ``channelAuthorization.endpoint`` posts to.
        user_path: the path pusher-js's ``userAuthentication.endpoint`` posts to.

    Returns:
        Two ``POST`` routes. Answers: 200 ``{"auth": ...}`` (+ ``channel_data`` for presence,
        + ``shared_secret`` for encrypted channels) or ``{"auth": ..., "user_data": ...}``;
        otherwise ``{"error": ...}`` with 400 (bad request fields), 401 (missing, invalid or
        expired bearer token), 403 (refused) or 500 (a rule or configuration error).
    """

    async def channel_auth(request: Request) -> Response:
        try:
            claims = _claims(request, config)
            fields = await _fields(request)
            socket_id = _socket_id(fields)
            channel = _channel_name(fields)
            decision = await _call(authorize, claims, channel)
            return JSONResponse(
                _channel_answer(config, claims, socket_id, channel, decision, user_info)
            )
        except _Refusal as refusal:
            return refusal.to_response()

    async def user_auth(request: Request) -> Response:
        try:
            claims = _claims(request, config)
            socket_id = _socket_id(await _fields(request))
            if user is None:
                signed_in = {"id": _subject(claims, "sign in")}
            else:
                signed_in = await _call(user, claims)
            if not isinstance(signed_in, dict):
                raise _Refusal(500, "the user resolver must return a dict")
            try:
                answer = authenticate_user(config.key, config.secret, socket_id, signed_in)
            except ValueError as error:
                raise _Refusal(
                    500, f"the user resolver returned an unusable user: {error}"
                ) from None
            return JSONResponse(answer)
        except _Refusal as refusal:
            return refusal.to_response()

    return [
        Route(channel_path, channel_auth, methods=["POST"], name="pusher_channel_auth"),
        Route(user_path, user_auth, methods=["POST"], name="pusher_user_auth"),
    ]


def auth_app(config: AuthConfig, authorize: ChannelRule, **kwargs: Any) -> Starlette:
    """Return a Starlette app serving :func:`auth_routes` (same arguments)."""
    return Starlette(routes=auth_routes(config, authorize, **kwargs))


def _claims(request: Request, config: AuthConfig) -> dict[str, Any]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _Refusal(401, "missing bearer token")
    try:
        claims = jwt.decode(
            token,
            config.jwt_key,
            algorithms=list(config.jwt_algorithms),
            audience=config.jwt_audience,
            issuer=config.jwt_issuer,
            leeway=config.jwt_leeway,
            # A token without exp would never expire: refuse it. A numeric sub is common
            # (it is often a database id), and the rule sees it as str(sub).
            options={"require": ["exp"], "verify_sub": False},
        )
    except jwt.ExpiredSignatureError:
        raise _Refusal(401, "expired bearer token") from None
    except jwt.InvalidTokenError as error:
        raise _Refusal(401, f"invalid bearer token: {error}") from None
    return claims


async def _fields(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise _Refusal(413, "request body too large")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            fields = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Refusal(400, "body is not valid JSON") from None
        if not isinstance(fields, dict):
            raise _Refusal(400, "body must be a JSON object")
        return fields
    # pusher-js's form body. Decoded by hand so python-multipart is not needed.
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise _Refusal(400, "body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _socket_id(fields: dict[str, Any]) -> str:
    socket_id = fields.get("socket_id")
    if not is_valid_socket_id(socket_id):
        raise _Refusal(400, "socket_id must look like 1234.5678")
    return socket_id


def _channel_name(fields: dict[str, Any]) -> str:
    channel = fields.get("channel_name")
    if not isinstance(channel, str) or not channel:
        raise _Refusal(400, "channel_name is missing")
    if not is_valid_channel_name(channel):
        raise _Refusal(400, "channel_name is not a valid channel name")
    if not channel.startswith(("private-", "presence-")):
        raise _Refusal(400, "only private- and presence- channels need authorization")
    return channel


def _subject(claims: dict[str, Any], purpose: str) -> str:
    sub = claims.get("sub")
    if isinstance(sub, bool) or not isinstance(sub, str | int) or sub == "":
        raise _Refusal(403, f"the bearer token has no sub claim to {purpose} with")
    return str(sub)


async def _call(function: Callable[..., _T | Awaitable[_T]], *args: Any) -> _T:
    if _is_async(function):
        result = function(*args)
    else:
        # A sync rule may query a database; keep it off the event loop, as Starlette does.
        result = await run_in_threadpool(function, *args)
    if inspect.isawaitable(result):
        return cast(_T, await result)
    return result


def _is_async(function: object) -> bool:
    while hasattr(function, "func"):  # functools.partial
        function = function.func
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - async callable objects
    )


def _channel_answer(
    config: AuthConfig,
    claims: dict[str, Any],
    socket_id: str,
    channel: str,
    decision: object,
    user_info: Callable[[dict[str, Any]], Any] | None,
) -> dict[str, str]:
    if decision is None or decision is False:
        raise _Refusal(403, f"not allowed to join {channel}")
    if decision is not True and not isinstance(decision, dict):
        raise _Refusal(
            500, f"the channel rule returned {type(decision).__name__}, not bool or dict"
        )
    presence_data: dict[str, Any] | None = None
    if channel.startswith("presence-"):
        if isinstance(decision, dict):
            user_id = decision.get("user_id")
            if isinstance(user_id, bool) or not isinstance(user_id, str | int) or user_id == "":
                raise _Refusal(500, "the channel rule's presence data has no usable user_id")
            presence_data = decision
        else:
            presence_data = {"user_id": _subject(claims, "join a presence channel")}
            if user_info is not None:
                presence_data["user_info"] = user_info(claims)
    if channel.startswith("private-encrypted-") and config.encryption_master_key is None:
        raise _Refusal(500, "encrypted channels need encryption_master_key in the auth config")
    try:
        return authorize_channel(
            config.key,
            config.secret,
            socket_id,
            channel,
            presence_data,
            encryption_master_key=config.encryption_master_key,
        )
    except (TypeError, ValueError) as error:
        raise _Refusal(500, f"the presence data cannot be signed: {error}") from None
