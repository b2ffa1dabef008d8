"""Loading the measures' inputs from the database, filtered, and rendering them as CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.helpdesk.measures import (
    ChatMessage,
    Summary,
    TicketFacts,
    chat_measures,
    ticket_measures,
)
from examples.helpdesk.models import Conversation, Message, Participant, SlaPolicy, Ticket


@dataclass(frozen=True)
class ReportFilter:
    """Which conversations and tickets a report covers.

    Attributes:
        start: only those created at or after this time.
        end: only those created before this time.
        agent_id: tickets assigned to this agent; conversations they took part in.
        category: tickets of this category (conversations have none, so it leaves them).
    """

    start: datetime | None = None
    end: datetime | None = None
    agent_id: int | None = None
    category: str | None = None


async def _chat_inputs(session: AsyncSession, where: ReportFilter) -> list[list[ChatMessage]]:
    query = select(Message.conversation_id, Message.sender_id, Message.created_at)
    if where.agent_id is not None:
        query = query.where(
            Message.conversation_id.in_(
                select(Participant.conversation_id).where(Participant.user_id == where.agent_id)
            )
        )
    query = query.join(Conversation, Conversation.id == Message.conversation_id)
    if where.start is not None:
        query = query.where(Conversation.created_at >= where.start)
    if where.end is not None:
        query = query.where(Conversation.created_at < where.end)
    by_conversation: dict[int, list[ChatMessage]] = defaultdict(list)
    for conversation_id, sender_id, created_at in await session.execute(
        query.order_by(Message.conversation_id, Message.id)
    ):
        by_conversation[conversation_id].append(ChatMessage(sender_id, created_at))
    return list(by_conversation.values())


async def _ticket_inputs(session: AsyncSession, where: ReportFilter) -> list[TicketFacts]:
    targets = {
        row.priority: (row.first_response_minutes * 60.0, row.resolution_minutes * 60.0)
        for row in await session.scalars(select(SlaPolicy))
    }
    query = select(Ticket)
    if where.start is not None:
        query = query.where(Ticket.created_at >= where.start)
    if where.end is not None:
        query = query.where(Ticket.created_at < where.end)
    if where.agent_id is not None:
        query = query.where(Ticket.assignee_id == where.agent_id)
    if where.category:
        query = query.where(Ticket.category == where.category)
    return [
        TicketFacts(
            created_at=t.created_at,
            first_response_at=t.first_response_at,
            resolved_at=t.resolved_at,
            first_response_target=targets[t.priority][0],
            resolution_target=targets[t.priority][1],
            rating=t.rating,
        )
        for t in await session.scalars(query)
    ]


async def build_report(
    session: AsyncSession, where: ReportFilter, *, now: datetime, long_pause: float
) -> dict[str, Any]:
    """Compute the chat and ticket measures for ``where`` (durations in seconds)."""
    chat = chat_measures(await _chat_inputs(session, where), long_pause=long_pause)
    tickets = ticket_measures(await _ticket_inputs(session, where), now=now)
    return {
        "filter": {
            "from": where.start.isoformat() if where.start else None,
            "to": where.end.isoformat() if where.end else None,
            "agent_id": where.agent_id,
            "category": where.category,
        },
        "chat": chat.to_dict(),
        "tickets": tickets.to_dict(),
    }


def _flatten(prefix: str, value: Any, out: list[tuple[str, str, Any]], section: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out, section)
    else:
        out.append((section, prefix, value))


def report_csv(report: dict[str, Any]) -> str:
    """Render a report as ``section,measure,value`` rows (durations in seconds)."""
    rows: list[tuple[str, str, Any]] = []
    for section in ("chat", "tickets"):
        _flatten("", report[section], rows, section)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "measure", "value"])
    for section, measure, value in rows:
        writer.writerow([section, measure, "" if value is None else value])
    return buffer.getvalue()


__all__ = ["ReportFilter", "Summary", "build_report", "report_csv"]
