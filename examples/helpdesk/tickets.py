"""Support tickets: opening, the comment thread, status, assignment, rating and SLA events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.helpdesk import outbox
from examples.helpdesk.chat import AGENTS_CHANNEL, user_channel
from examples.helpdesk.errors import Forbidden, Invalid, NotFound
from examples.helpdesk.models import SlaPolicy, Ticket, TicketComment, User
from examples.helpdesk.outbox import iso
from examples.helpdesk.sla import Policy, escalation, first_response_clock, resolution_clock
from examples.helpdesk.workflow import (
    ACTIVE,
    Status,
    after_requester_comment,
    allowed_moves,
    check_transition,
    is_reopen,
)

PRIORITIES = ("low", "normal", "high", "urgent")
CATEGORIES = ("order", "payment", "shipping", "account", "listing", "other")


def ticket_channel(ticket_id: int) -> str:
    """The presence channel of a ticket: its events, and who is viewing it."""
    return f"presence-ticket.{ticket_id}"


def least_loaded(loads: Mapping[int, int], online: Iterable[int]) -> int | None:
    """Pick the online agent with the fewest active tickets; the lowest id breaks ties.

    Args:
        loads: active-ticket counts by agent id (agents missing here count as 0).
        online: the ids of agents online now; ids that are not agents are ignored by the
            caller before this point.

    Returns:
        The chosen agent id, or None when nobody is online.
    """
    candidates = sorted(set(online))
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (loads.get(agent, 0), agent))


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    """A ticket's own fields as the API and its events show them."""
    return {
        "id": ticket.id,
        "requester_id": ticket.requester_id,
        "assignee_id": ticket.assignee_id,
        "subject": ticket.subject,
        "category": ticket.category,
        "priority": ticket.priority,
        "description": ticket.description,
        "status": ticket.status,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "rating": ticket.rating,
        "rating_comment": ticket.rating_comment,
        "channel": ticket_channel(ticket.id),
    }


def comment_dict(comment: TicketComment, author: User | None = None) -> dict[str, Any]:
    """A comment as the API and its events show it."""
    data: dict[str, Any] = {
        "id": comment.id,
        "ticket_id": comment.ticket_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "created_at": iso(comment.created_at),
    }
    if author is not None:
        data["author_name"] = author.name
        data["author_role"] = author.role
    return data


async def policies(session: AsyncSession) -> dict[str, Policy]:
    """The SLA policy of each priority."""
    rows = await session.scalars(select(SlaPolicy))
    return {
        row.priority: Policy(
            timedelta(minutes=row.first_response_minutes),
            timedelta(minutes=row.resolution_minutes),
            row.warning_percent / 100,
        )
        for row in rows
    }


async def _announce(
    session: AsyncSession,
    ticket: Ticket,
    name: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    *,
    requester: bool = True,
) -> None:
    """Queue ``name`` on the ticket's channel, the agents' queue and the requester's channel."""
    payload = {"ticket": ticket_dict(ticket), **(extra or {})}
    await outbox.record(session, ticket_channel(ticket.id), name, payload, now)
    await outbox.record(session, AGENTS_CHANNEL, name, payload, now)
    if requester:
        await outbox.record(session, user_channel(ticket.requester_id), name, payload, now)


async def _visible(
    session: AsyncSession, actor: User, ticket_id: int, *, lock: bool = False
) -> Ticket:
    # lock: a change holds the ticket's row until commit, so concurrent changes apply, and
    # get their event sequence numbers, in one order.
    ticket = await session.get(Ticket, ticket_id, with_for_update=lock or None)
    if ticket is None or (actor.role != "agent" and ticket.requester_id != actor.id):
        raise NotFound("no such ticket")
    return ticket


async def open_ticket(
    session: AsyncSession,
    actor: User,
    *,
    subject: str,
    category: str,
    priority: str,
    description: str,
    now: datetime,
) -> Ticket:
    """Open a ticket for the actor and announce ``TicketCreated``.

    Raises:
        Forbidden: an agent opening a ticket for themselves.
        Invalid: a missing subject or description, or an unknown category or priority.
    """
    if actor.role == "agent":
        raise Forbidden("tickets are opened by buyers and sellers")
    subject, description = (subject or "").strip(), (description or "").strip()
    if not subject or not description:
        raise Invalid("a ticket needs a subject and a description")
    if category not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}")
    if priority not in PRIORITIES:
        raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}")
    ticket = Ticket(
        requester_id=actor.id,
        subject=subject[:200],
        category=category,
        priority=priority,
        description=description,
        status=Status.OPEN.value,
        created_at=now,
        updated_at=now,
        sla_first_response_state="ok",
        sla_resolution_state="ok",
    )
    session.add(ticket)
    await session.flush()
    await _announce(session, ticket, "TicketCreated", now)
    return ticket


async def agent_loads(session: AsyncSession) -> dict[int, int]:
    """Active tickets per agent, every agent included."""
    agents = (await session.scalars(select(User.id).where(User.role == "agent"))).all()
    counts = dict(
        (
            await session.execute(
                select(Ticket.assignee_id, func.count(Ticket.id))
                .where(
                    Ticket.status.in_([s.value for s in ACTIVE]), Ticket.assignee_id.is_not(None)
                )
                .group_by(Ticket.assignee_id)
            )
        ).all()
    )
    return {agent: int(counts.get(agent, 0)) for agent in agents}


async def assign(
    session: AsyncSession, actor: User | None, ticket_id: int, agent_id: int, now: datetime
) -> Ticket:
    """Assign a ticket to an agent (``actor`` None: the automatic assigner).

    Raises:
        Forbidden: a non-agent assigning.
        Invalid: the assignee is not an agent.
    """
    if actor is not None and actor.role != "agent":
        raise Forbidden("only agents assign tickets")
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound("no such ticket")
    agent = await session.get(User, agent_id)
    if agent is None or agent.role != "agent":
        raise Invalid("tickets are assigned to agents")
    ticket.assignee_id = agent.id
    ticket.updated_at = now
    await _announce(
        session,
        ticket,
        "TicketAssigned",
        now,
        {"assignee": {"id": agent.id, "name": agent.name}, "automatic": actor is None},
    )
    await outbox.record(
        session, user_channel(agent.id), "TicketAssigned", {"ticket": ticket_dict(ticket)}, now
    )
    return ticket


async def auto_assign(
    session: AsyncSession, ticket_id: int, online: Iterable[int], now: datetime
) -> Ticket | None:
    """Assign a ticket to the least-loaded online agent; None when no agent is online."""
    loads = await agent_loads(session)
    chosen = least_loaded(loads, [user for user in online if user in loads])
    if chosen is None:
        return None
    return await assign(session, None, ticket_id, chosen, now)


async def add_comment(
    session: AsyncSession, actor: User, ticket_id: int, body: str, now: datetime
) -> TicketComment:
    """Add to the thread; an agent's first comment is the first response.

    A requester's reply to a ticket waiting on them moves it back to in progress.
    """
    ticket = await _visible(session, actor, ticket_id, lock=True)
    body = (body or "").strip()
    if not body:
        raise Invalid("a comment needs a body")
    comment = TicketComment(ticket_id=ticket.id, author_id=actor.id, body=body, created_at=now)
    session.add(comment)
    await session.flush()
    if actor.role == "agent" and ticket.first_response_at is None:
        ticket.first_response_at = now
    if actor.id == ticket.requester_id:
        ticket.status = after_requester_comment(Status(ticket.status)).value
    ticket.updated_at = now
    await _announce(
        session, ticket, "TicketCommentAdded", now, {"comment": comment_dict(comment, actor)}
    )
    return comment


async def change_status(
    session: AsyncSession, actor: User, ticket_id: int, status: str, now: datetime
) -> Ticket:
    """Move a ticket along the workflow and announce ``TicketStatusChanged``.

    Resolving stamps ``resolved_at``; closing stamps ``closed_at``; reopening clears both.

    Raises:
        Invalid: an unknown status or a move the workflow forbids.
    """
    ticket = await _visible(session, actor, ticket_id, lock=True)
    try:
        target = Status(status)
    except ValueError:
        raise Invalid(f"unknown status {status!r}") from None
    current = Status(ticket.status)
    try:
        check_transition(current, target, is_agent=actor.role == "agent")
    except ValueError as error:
        raise Invalid(str(error)) from None
    if is_reopen(current, target):
        ticket.resolved_at = None
        ticket.closed_at = None
    if target is Status.RESOLVED:
        ticket.resolved_at = now
    if target is Status.CLOSED:
        ticket.closed_at = now
        if ticket.resolved_at is None:
            ticket.resolved_at = now
    ticket.status = target.value
    ticket.updated_at = now
    await _announce(
        session, ticket, "TicketStatusChanged", now, {"from": current.value, "to": target.value}
    )
    return ticket


async def rate(
    session: AsyncSession,
    actor: User,
    ticket_id: int,
    rating: int,
    comment: str | None,
    now: datetime,
) -> Ticket:
    """Record the requester's 1-5 rating of a resolved or closed ticket.

    Raises:
        Forbidden: someone other than the requester rating.
        Invalid: a rating outside 1-5, or a ticket not yet resolved.
    """
    ticket = await _visible(session, actor, ticket_id, lock=True)
    if ticket.requester_id != actor.id:
        raise Forbidden("only the requester rates a ticket")
    if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):
        raise Invalid("a ticket is rated once resolved")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise Invalid("a rating is a whole number from 1 to 5")
    ticket.rating = rating
    ticket.rating_comment = (comment or "").strip() or None
    ticket.updated_at = now
    await _announce(session, ticket, "TicketRated", now)
    return ticket


async def list_tickets(
    session: AsyncSession, actor: User, *, scope: str = "all", status: str | None = None
) -> list[dict[str, Any]]:
    """Tickets visible to the actor, newest first.

    Agents see every ticket; ``scope`` narrows to ``queue`` (active), ``mine`` (assigned to
    them) or ``unassigned``. Buyers and sellers see their own.
    """
    query = select(Ticket).order_by(Ticket.id.desc())
    if actor.role != "agent":
        query = query.where(Ticket.requester_id == actor.id)
    elif scope == "queue":
        query = query.where(Ticket.status.in_([s.value for s in ACTIVE]))
    elif scope == "mine":
        query = query.where(Ticket.assignee_id == actor.id)
    elif scope == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None))
    if status:
        query = query.where(Ticket.status == status)
    return [ticket_dict(ticket) for ticket in await session.scalars(query.limit(500))]


async def ticket_detail(
    session: AsyncSession, actor: User, ticket_id: int, now: datetime
) -> dict[str, Any]:
    """A ticket with its thread, people and SLA clocks."""
    ticket = await _visible(session, actor, ticket_id)
    rows = (
        await session.execute(
            select(TicketComment, User)
            .join(User, User.id == TicketComment.author_id)
            .where(TicketComment.ticket_id == ticket_id)
            .order_by(TicketComment.id)
        )
    ).all()
    requester = await session.get(User, ticket.requester_id)
    assignee = await session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    policy = (await policies(session))[ticket.priority]
    first = first_response_clock(ticket.created_at, ticket.first_response_at, policy, now)
    resolution = resolution_clock(ticket.created_at, ticket.resolved_at, policy, now)
    return {
        **ticket_dict(ticket),
        "requester": {"id": requester.id, "name": requester.name} if requester else None,
        "assignee": {"id": assignee.id, "name": assignee.name} if assignee else None,
        "comments": [comment_dict(comment, author) for comment, author in rows],
        "allowed_statuses": sorted(
            allowed_moves(Status(ticket.status), is_agent=actor.role == "agent")
        ),
        "sla": {
            "first_response": {"state": first.state, "due_at": iso(first.due_at)},
            "resolution": {"state": resolution.state, "due_at": iso(resolution.due_at)},
        },
    }


async def check_sla(session: AsyncSession, now: datetime) -> int:
    """Announce each active ticket's new SLA warnings and breaches, once each.

    Events: ``TicketSlaWarning`` and ``TicketSlaBreached``, with ``clock`` naming
    ``first_response`` or ``resolution``. Returns how many were queued.
    """
    by_priority = await policies(session)
    active = await session.scalars(
        select(Ticket).where(Ticket.status.in_([s.value for s in ACTIVE]))
    )
    sent = 0
    for ticket in active.all():
        policy = by_priority[ticket.priority]
        clocks = (
            (
                "first_response",
                "sla_first_response_state",
                first_response_clock(ticket.created_at, ticket.first_response_at, policy, now),
            ),
            (
                "resolution",
                "sla_resolution_state",
                resolution_clock(ticket.created_at, ticket.resolved_at, policy, now),
            ),
        )
        for name, attribute, state in clocks:
            news = escalation(getattr(ticket, attribute), state.state)
            if news is None:
                continue
            setattr(ticket, attribute, news.value)
            event = "TicketSlaWarning" if news.value == "warning" else "TicketSlaBreached"
            await _announce(
                session,
                ticket,
                event,
                now,
                {"clock": name, "due_at": iso(state.due_at)},
                requester=False,
            )
            sent += 1
    return sent
