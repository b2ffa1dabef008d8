"""Sign-in: password hashes, JWTs, and who may join which channel."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from examples.helpdesk.errors import Unauthorized
from examples.helpdesk.models import Conversation, Participant, Ticket, User

ROLES = ("buyer", "seller", "agent")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """Return ``scrypt$<salt>$<hash>`` for ``password`` (a fresh random salt each time)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Tell, in constant time, whether ``password`` matches a :func:`hash_password` value."""
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest_hex = rest.partition("$")
    if scheme != "scrypt" or not salt_hex or not digest_hex:
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def issue_token(user: User, secret: str, ttl: int, now: float | None = None) -> str:
    """Return an HS256 JWT naming the user (``sub``), with ``name`` and ``role`` claims."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": str(user.id),
        "name": user.name,
        "role": user.role,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(token: str, secret: str) -> dict[str, Any]:
    """Return a valid token's claims.

    Raises:
        Unauthorized: the token is malformed, forged or expired.
    """
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from None


def member(claims: dict[str, Any]) -> dict[str, Any]:
    """A presence member built from the claims: the user's id, name and role."""
    return {
        "user_id": str(claims["sub"]),
        # The id is repeated inside user_info: Echo's here()/joining() hand over user_info only.
        "user_info": {
            "id": str(claims["sub"]),
            "name": claims.get("name", ""),
            "role": claims.get("role", ""),
        },
    }


ChannelRule = Callable[[dict[str, Any], str], Awaitable[bool | dict[str, Any]]]


async def can_access(session: AsyncSession, user_id: int, role: str, channel: str) -> bool:
    """Tell whether a user may receive ``channel``'s events (channel auth and catch-up alike).

    Channels, as a Laravel ``routes/channels.php`` would define them:

    - ``private-App.Models.User.{id}``: that user only;
    - ``private-agents``: agents;
    - ``private-conversation.{id}``: its participants, and agents on support conversations;
    - ``presence-ticket.{id}``: its requester and agents;
    - ``presence-online``: everyone signed in.
    """
    kind, _, ident = channel.rpartition(".")
    if channel == "presence-online":
        return True
    if channel == "private-agents":
        return role == "agent"
    if not ident.isdigit():
        return False
    number = int(ident)
    if kind == "private-App.Models.User":
        return number == user_id
    if kind == "private-conversation":
        conversation = await session.get(Conversation, number)
        if conversation is None:
            return False
        if conversation.kind == "support" and role == "agent":
            return True
        joined = await session.scalar(
            select(Participant.user_id).where(
                Participant.conversation_id == number, Participant.user_id == user_id
            )
        )
        return joined is not None
    if kind == "presence-ticket":
        ticket = await session.get(Ticket, number)
        return ticket is not None and (role == "agent" or ticket.requester_id == user_id)
    return False


def channel_rule(sessions: async_sessionmaker[AsyncSession]) -> ChannelRule:
    """Return the rule ``client_auth``'s endpoint calls for each subscription request."""

    async def authorize(claims: dict[str, Any], channel: str) -> bool | dict[str, Any]:
        try:
            user_id = int(claims["sub"])
        except (KeyError, TypeError, ValueError):
            return False
        async with sessions() as session:
            allowed = await can_access(session, user_id, str(claims.get("role", "")), channel)
        if allowed and channel.startswith("presence-"):
            return member(claims)
        return allowed

    return authorize
