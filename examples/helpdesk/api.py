"""The JSON API: thin handlers that authenticate, call one service in a transaction, answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from examples.helpdesk import chat, tickets
from examples.helpdesk.auth import can_access, check_password, issue_token, read_token
from examples.helpdesk.errors import Forbidden, HelpdeskError, Invalid, NotFound, Unauthorized
from examples.helpdesk.models import User
from examples.helpdesk.outbox import events_since, last_seq
from examples.helpdesk.pusher_api import PusherApiError
from examples.helpdesk.reports import ReportFilter, build_report, report_csv

logger = logging.getLogger("helpdesk.api")
T = TypeVar("T")
ONLINE_CHANNEL = "presence-online"


def user_dict(user: User) -> dict[str, Any]:
    """A user as others see them."""
    return {"id": user.id, "name": user.name, "role": user.role, "email": user.email}


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise Invalid("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    return data


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a whole number") from None


async def _actor(request: Request, session: AsyncSession) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("sign in first: send Authorization: Bearer <token>")
    claims = read_token(token.strip(), request.app.state.settings.jwt_secret)
    user = await session.get(User, int(claims["sub"]))
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user


def _now(request: Request) -> datetime:
    return request.app.state.clock()


async def _read(request: Request, work: Callable[[AsyncSession, User], Awaitable[T]]) -> T:
    async with request.app.state.sessions() as session:
        return await work(session, await _actor(request, session))


async def _write(request: Request, work: Callable[[AsyncSession, User], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction (the change and its outbox rows), then wake the publisher."""
    async with request.app.state.sessions.begin() as session:
        result = await work(session, await _actor(request, session))
    request.app.state.publisher.wake()
    return result


async def login(request: Request) -> Response:
    """``POST /api/login {email, password}`` → ``{token, user}``."""
    data = await _body(request)
    async with request.app.state.sessions() as session:
        user = await session.scalar(select(User).where(User.email == str(data.get("email", ""))))
    if user is None or not check_password(str(data.get("password", "")), user.password_hash):
        raise Unauthorized("wrong email or password")
    settings = request.app.state.settings
    token = issue_token(user, settings.jwt_secret, settings.jwt_ttl)
    return JSONResponse({"token": token, "user": user_dict(user)})


async def me(request: Request) -> Response:
    """``GET /api/me``: the signed-in user."""
    return JSONResponse(await _read(request, lambda s, u: _identity(u)))


async def _identity(user: User) -> dict[str, Any]:
    return user_dict(user)


async def users(request: Request) -> Response:
    """``GET /api/users?role=seller``: people one can start a conversation with."""
    role = request.query_params.get("role")

    async def work(session: AsyncSession, actor: User) -> list[dict[str, Any]]:
        query = select(User).where(User.id != actor.id).order_by(User.name)
        if role:
            query = query.where(User.role == role)
        return [user_dict(user) for user in await session.scalars(query)]

    return JSONResponse(await _read(request, work))


async def client_config(request: Request) -> Response:
    """``GET /api/config``: what pusher-js and Echo need to reach pusherd."""
    pusher = request.app.state.settings.pusher
    return JSONResponse(
        {
            "key": pusher.key,
            "wsHost": pusher.host,
            "wsPort": pusher.port,
            "forceTLS": pusher.scheme == "https",
            "authEndpoint": "/broadcasting/auth",
            "userAuthEndpoint": "/broadcasting/user-auth",
        }
    )


async def conversations(request: Request) -> Response:
    """``GET /api/conversations``; ``POST`` opens one (``kind``, ``subject``, ...)."""
    if request.method == "GET":
        return JSONResponse(await _read(request, chat.list_conversations))
    data = await _body(request)

    async def work(session: AsyncSession, actor: User) -> dict[str, Any]:
        conversation = await chat.start_conversation(
            session,
            actor,
            kind=str(data.get("kind", "")),
            subject=str(data.get("subject", "")),
            reference=data.get("reference"),
            counterpart_id=_int(data["counterpart_id"], "counterpart_id")
            if data.get("counterpart_id") is not None
            else None,
            now=_now(request),
        )
        return chat.conversation_dict(conversation)

    return JSONResponse(await _write(request, work), status_code=201)


async def conversation(request: Request) -> Response:
    """``GET /api/conversations/{id}``: participants and read positions."""
    cid = request.path_params["id"]
    return JSONResponse(await _read(request, lambda s, u: chat.conversation_detail(s, u, cid)))


async def messages(request: Request) -> Response:
    """``GET .../messages?before=&limit=`` pages history; ``POST {body}`` sends a message."""
    cid = request.path_params["id"]
    if request.method == "GET":
        params = request.query_params
        before = _int(params["before"], "before") if params.get("before") else None
        limit = _int(params.get("limit", 50), "limit")
        return JSONResponse(
            await _read(
                request, lambda s, u: chat.messages_page(s, u, cid, before=before, limit=limit)
            )
        )
    data = await _body(request)

    async def work(session: AsyncSession, actor: User) -> dict[str, Any]:
        message = await chat.post_message(
            session, actor, cid, str(data.get("body", "")), _now(request)
        )
        return chat.message_dict(message, actor)

    return JSONResponse(await _write(request, work), status_code=201)


async def read_receipt(request: Request) -> Response:
    """``POST .../read {message_id?}``: mark read up to a message (the newest by default)."""
    cid = request.path_params["id"]
    data = await _body(request)
    up_to = _int(data["message_id"], "message_id") if data.get("message_id") is not None else None
    position = await _write(request, lambda s, u: chat.mark_read(s, u, cid, _now(request), up_to))
    return JSONResponse({"last_read_message_id": position})


async def channel_events(request: Request) -> Response:
    """``GET /api/channels/{channel}/events?since=N``: the events a reconnecting client missed.

    ``since=latest`` returns no events, only ``last_seq``: where a new subscriber starts.
    """
    channel = request.path_params["channel"]
    raw_since = request.query_params.get("since", "0")
    latest = raw_since == "latest"
    since = 0 if latest else _int(raw_since, "since")

    async def work(session: AsyncSession, actor: User) -> dict[str, Any]:
        if not await can_access(session, actor.id, actor.role, channel):
            raise NotFound("no such channel")
        events = [] if latest else await events_since(session, channel, since)
        return {
            "channel": channel,
            "last_seq": await last_seq(session, channel),
            "events": [event.to_dict() for event in events],
        }

    return JSONResponse(await _read(request, work))


async def ticket_list(request: Request) -> Response:
    """``GET /api/tickets?scope=&status=``; ``POST`` opens a ticket."""
    if request.method == "GET":
        scope = request.query_params.get("scope", "all")
        status = request.query_params.get("status")
        return JSONResponse(
            await _read(
                request, lambda s, u: tickets.list_tickets(s, u, scope=scope, status=status)
            )
        )
    data = await _body(request)

    async def work(session: AsyncSession, actor: User) -> int:
        ticket = await tickets.open_ticket(
            session,
            actor,
            subject=str(data.get("subject", "")),
            category=str(data.get("category", "other")),
            priority=str(data.get("priority", "normal")),
            description=str(data.get("description", "")),
            now=_now(request),
        )
        return ticket.id

    ticket_id = await _write(request, work)
    if request.app.state.settings.auto_assign:
        await _auto_assign(request, ticket_id)
    return JSONResponse(await _detail(request, ticket_id), status_code=201)


async def _online_ids(request: Request) -> list[int]:
    try:
        ids = await request.app.state.pusher_api.presence_user_ids(ONLINE_CHANNEL)
    except PusherApiError as error:
        logger.warning("cannot see who is online: %s", error)
        return []
    return [int(i) for i in ids if i.isdigit()]


async def _auto_assign(request: Request, ticket_id: int) -> bool:
    online = await _online_ids(request)
    async with request.app.state.sessions.begin() as session:
        assigned = await tickets.auto_assign(session, ticket_id, online, _now(request))
    request.app.state.publisher.wake()
    return assigned is not None


async def _detail(request: Request, ticket_id: int) -> dict[str, Any]:
    return await _read(request, lambda s, u: tickets.ticket_detail(s, u, ticket_id, _now(request)))


async def ticket(request: Request) -> Response:
    """``GET /api/tickets/{id}``: the ticket, its thread and SLA clocks."""
    return JSONResponse(await _detail(request, request.path_params["id"]))


async def ticket_comments(request: Request) -> Response:
    """``POST /api/tickets/{id}/comments {body}``."""
    tid = request.path_params["id"]
    data = await _body(request)

    async def work(session: AsyncSession, actor: User) -> dict[str, Any]:
        comment = await tickets.add_comment(
            session, actor, tid, str(data.get("body", "")), _now(request)
        )
        return tickets.comment_dict(comment, actor)

    return JSONResponse(await _write(request, work), status_code=201)


async def ticket_status(request: Request) -> Response:
    """``POST /api/tickets/{id}/status {status}``."""
    tid = request.path_params["id"]
    data = await _body(request)
    await _write(
        request,
        lambda s, u: tickets.change_status(s, u, tid, str(data.get("status", "")), _now(request)),
    )
    return JSONResponse(await _detail(request, tid))


async def ticket_assign(request: Request) -> Response:
    """``POST /api/tickets/{id}/assign {agent_id}`` or ``{auto: true}``."""
    tid = request.path_params["id"]
    data = await _body(request)
    if data.get("auto"):
        await _read(request, _require_agent)
        if not await _auto_assign(request, tid):
            raise Invalid("no agent is online")
    else:
        agent_id = _int(data.get("agent_id"), "agent_id")
        await _write(request, lambda s, u: tickets.assign(s, u, tid, agent_id, _now(request)))
    return JSONResponse(await _detail(request, tid))


async def _require_agent(session: AsyncSession, actor: User) -> None:
    if actor.role != "agent":
        raise Forbidden("only agents assign tickets")


async def ticket_rating(request: Request) -> Response:
    """``POST /api/tickets/{id}/rating {rating, comment}``."""
    tid = request.path_params["id"]
    data = await _body(request)
    rating = data.get("rating")
    await _write(
        request,
        lambda s, u: tickets.rate(s, u, tid, rating, data.get("comment"), _now(request)),  # type: ignore[arg-type]
    )
    return JSONResponse(await _detail(request, tid))


def _report_filter(request: Request) -> ReportFilter:
    params = request.query_params

    def moment(name: str) -> datetime | None:
        raw = params.get(name)
        if not raw:
            return None
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            raise Invalid(f"{name} must be an ISO date or time") from None

    agent = params.get("agent")
    return ReportFilter(
        start=moment("from"),
        end=moment("to"),
        agent_id=_int(agent, "agent") if agent else None,
        category=params.get("category") or None,
    )


async def _report(request: Request) -> dict[str, Any]:
    where = _report_filter(request)
    settings = request.app.state.settings

    async def work(session: AsyncSession, actor: User) -> dict[str, Any]:
        if actor.role != "agent":
            raise Forbidden("reports are for support agents")
        return await build_report(session, where, now=_now(request), long_pause=settings.long_pause)

    return await _read(request, work)


async def report_json(request: Request) -> Response:
    """``GET /api/reports?from=&to=&agent=&category=``: the measures as JSON."""
    return JSONResponse(await _report(request))


async def report_csv_export(request: Request) -> Response:
    """``GET /api/reports.csv?...``: the same measures as ``section,measure,value`` rows."""
    return Response(
        report_csv(await _report(request)),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="helpdesk-report.csv"'},
    )


async def on_error(request: Request, exc: Exception) -> Response:
    """Answer a domain error with its status and ``{"error": message}``."""
    assert isinstance(exc, HelpdeskError)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


routes = [
    Route("/api/login", login, methods=["POST"]),
    Route("/api/me", me),
    Route("/api/config", client_config),
    Route("/api/users", users),
    Route("/api/conversations", conversations, methods=["GET", "POST"]),
    Route("/api/conversations/{id:int}", conversation),
    Route("/api/conversations/{id:int}/messages", messages, methods=["GET", "POST"]),
    Route("/api/conversations/{id:int}/read", read_receipt, methods=["POST"]),
    Route("/api/channels/{channel}/events", channel_events),
    Route("/api/tickets", ticket_list, methods=["GET", "POST"]),
    Route("/api/tickets/{id:int}", ticket),
    Route("/api/tickets/{id:int}/comments", ticket_comments, methods=["POST"]),
    Route("/api/tickets/{id:int}/status", ticket_status, methods=["POST"]),
    Route("/api/tickets/{id:int}/assign", ticket_assign, methods=["POST"]),
    Route("/api/tickets/{id:int}/rating", ticket_rating, methods=["POST"]),
    Route("/api/reports", report_json),
    Route("/api/reports.csv", report_csv_export),
]
