"""Conversations and messages: each change is stored, then announced through the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.helpdesk import outbox
from examples.helpdesk.auth import can_access
from examples.helpdesk.errors import Forbidden, Invalid, NotFound
from examples.helpdesk.models import Conversation, Message, Participant, User
from examples.helpdesk.outbox import iso

MAX_BODY = 4000
PAGE_MAX = 100


def conversation_channel(conversation_id: int) -> str:
    """The private channel a conversation's messages, receipts and whispers travel on."""
    return f"private-conversation.{conversation_id}"


def user_channel(user_id: int) -> str:
    """A user's own channel, named as Laravel's default ``App.Models.User.{id}``."""
    return f"private-App.Models.User.{user_id}"


AGENTS_CHANNEL = "private-agents"


def message_dict(message: Message, sender: User | None = None) -> dict[str, Any]:
    """A message as the API and its events show it."""
    data: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "body": message.body,
        "created_at": iso(message.created_at),
    }
    if sender is not None:
        data["sender_name"] = sender.name
    return data


def conversation_dict(conversation: Conversation) -> dict[str, Any]:
    """A conversation's own fields."""
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "subject": conversation.subject,
        "reference": conversation.reference,
        "created_by_id": conversation.created_by_id,
        "created_at": iso(conversation.created_at),
        "last_message_at": iso(conversation.last_message_at),
        "channel": conversation_channel(conversation.id),
    }


async def _visible(
    session: AsyncSession, actor: User, conversation_id: int, *, lock: bool = False
) -> Conversation:
    # lock: hold the conversation's row until commit (FOR UPDATE; SQLite serializes writers
    # anyway), so concurrent posts get message ids and event sequence numbers in one order.
    conversation = await session.get(Conversation, conversation_id, with_for_update=lock or None)
    if conversation is None or not await can_access(
        session, actor.id, actor.role, conversation_channel(conversation_id)
    ):
        raise NotFound("no such conversation")
    return conversation


async def start_conversation(
    session: AsyncSession,
    actor: User,
    *,
    kind: str,
    subject: str,
    now: datetime,
    reference: str | None = None,
    counterpart_id: int | None = None,
) -> Conversation:
    """Open a trade conversation with a counterpart, or a support conversation.

    A trade conversation is between one buyer and one seller, opened by either; a support
    conversation is opened by a buyer or seller and is visible to every agent.

    Raises:
        Invalid: a missing subject, an unknown kind, or a counterpart of the wrong role.
        Forbidden: an agent opening a conversation.
    """
    subject = (subject or "").strip()
    if not subject:
        raise Invalid("a conversation needs a subject")
    if actor.role == "agent":
        raise Forbidden("agents answer conversations; buyers and sellers open them")
    members = [actor.id]
    if kind == "trade":
        counterpart = await session.get(User, counterpart_id) if counterpart_id else None
        wanted = "seller" if actor.role == "buyer" else "buyer"
        if counterpart is None or counterpart.role != wanted:
            raise Invalid(f"a trade conversation needs a {wanted} as counterpart")
        members.append(counterpart.id)
    elif kind != "support":
        raise Invalid("kind must be 'trade' or 'support'")
    conversation = Conversation(
        kind=kind,
        subject=subject[:200],
        reference=(reference or None),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(conversation)
    await session.flush()
    for user_id in members:
        session.add(
            Participant(
                conversation_id=conversation.id,
                user_id=user_id,
                last_read_message_id=0,
                joined_at=now,
            )
        )
    payload = {"conversation": conversation_dict(conversation)}
    for user_id in members[1:]:
        await outbox.record(session, user_channel(user_id), "ConversationStarted", payload, now)
    if kind == "support":
        await outbox.record(session, AGENTS_CHANNEL, "ConversationStarted", payload, now)
    return conversation


async def _unread(session: AsyncSession, conversation_id: int, user_id: int, after: int) -> int:
    return int(
        await session.scalar(
            select(func.count(Message.id)).where(
                Message.conversation_id == conversation_id,
                Message.id > after,
                Message.sender_id != user_id,
            )
        )
        or 0
    )


async def _last_read(session: AsyncSession, conversation_id: int, user_id: int) -> int:
    value = await session.scalar(
        select(Participant.last_read_message_id).where(
            Participant.conversation_id == conversation_id, Participant.user_id == user_id
        )
    )
    return int(value or 0)


async def list_conversations(session: AsyncSession, actor: User) -> list[dict[str, Any]]:
    """The actor's conversations, newest activity first, with unread counts and last message."""
    mine = select(Participant.conversation_id).where(Participant.user_id == actor.id)
    query = select(Conversation).where(Conversation.id.in_(mine))
    if actor.role == "agent":
        query = select(Conversation).where(
            Conversation.id.in_(mine) | (Conversation.kind == "support")
        )
    conversations = (await session.scalars(query)).all()
    result = []
    for conversation in conversations:
        last = await session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id.desc())
            .limit(1)
        )
        read = await _last_read(session, conversation.id, actor.id)
        names = (
            await session.scalars(
                select(User.name)
                .join(Participant, Participant.user_id == User.id)
                .where(Participant.conversation_id == conversation.id, User.id != actor.id)
            )
        ).all()
        result.append(
            {
                **conversation_dict(conversation),
                "with": list(names),
                "unread": await _unread(session, conversation.id, actor.id, read),
                "last_message": None if last is None else message_dict(last),
            }
        )
    result.sort(key=lambda c: c["last_message_at"] or c["created_at"], reverse=True)
    return result


async def conversation_detail(
    session: AsyncSession, actor: User, conversation_id: int
) -> dict[str, Any]:
    """A conversation with its participants and how far each has read."""
    conversation = await _visible(session, actor, conversation_id)
    rows = (
        await session.execute(
            select(User, Participant.last_read_message_id)
            .join(Participant, Participant.user_id == User.id)
            .where(Participant.conversation_id == conversation_id)
        )
    ).all()
    return {
        **conversation_dict(conversation),
        "participants": [
            {"id": user.id, "name": user.name, "role": user.role, "last_read_message_id": read}
            for user, read in rows
        ],
        "unread": await _unread(
            session, conversation_id, actor.id, await _last_read(session, conversation_id, actor.id)
        ),
    }


async def messages_page(
    session: AsyncSession,
    actor: User,
    conversation_id: int,
    *,
    before: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """A page of history, oldest first, ending just before message ``before`` (or the newest).

    Returns:
        ``{"messages": [...], "next_before": id or None}``; pass ``next_before`` back as
        ``before`` for the page of older messages.
    """
    await _visible(session, actor, conversation_id)
    limit = max(1, min(limit, PAGE_MAX))
    query = select(Message, User).join(User, User.id == Message.sender_id)
    query = query.where(Message.conversation_id == conversation_id)
    if before is not None:
        query = query.where(Message.id < before)
    rows = (await session.execute(query.order_by(Message.id.desc()).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    messages = [message_dict(message, sender) for message, sender in reversed(rows)]
    return {"messages": messages, "next_before": messages[0]["id"] if more else None}


async def _join(
    session: AsyncSession, conversation_id: int, user_id: int, now: datetime
) -> Participant:
    participant = await session.get(Participant, (conversation_id, user_id))
    if participant is None:
        participant = Participant(
            conversation_id=conversation_id, user_id=user_id, last_read_message_id=0, joined_at=now
        )
        session.add(participant)
    return participant


async def post_message(
    session: AsyncSession, actor: User, conversation_id: int, body: str, now: datetime
) -> Message:
    """Store a message and queue its events; an agent answering support joins the conversation.

    Events: ``MessageSent`` on the conversation's channel, and ``ConversationUpdated`` (with
    the unread count) on each other participant's own channel.

    Raises:
        NotFound: the conversation is not visible to the actor.
        Invalid: an empty or over-long body.
    """
    conversation = await _visible(session, actor, conversation_id, lock=True)
    body = (body or "").strip()
    if not body or len(body) > MAX_BODY:
        raise Invalid(f"a message has 1 to {MAX_BODY} characters")
    sender = await _join(session, conversation_id, actor.id, now)
    message = Message(
        conversation_id=conversation_id, sender_id=actor.id, body=body, created_at=now
    )
    session.add(message)
    await session.flush()
    sender.last_read_message_id = message.id
    conversation.last_message_at = now
    shown = message_dict(message, actor)
    await outbox.record(
        session, conversation_channel(conversation_id), "MessageSent", {"message": shown}, now
    )
    others = (
        await session.scalars(
            select(Participant).where(
                Participant.conversation_id == conversation_id, Participant.user_id != actor.id
            )
        )
    ).all()
    for other in others:
        unread = await _unread(session, conversation_id, other.user_id, other.last_read_message_id)
        await outbox.record(
            session,
            user_channel(other.user_id),
            "ConversationUpdated",
            {"conversation_id": conversation_id, "unread": unread, "last_message": shown},
            now,
        )
    return message


async def mark_read(
    session: AsyncSession,
    actor: User,
    conversation_id: int,
    now: datetime,
    up_to: int | None = None,
) -> int:
    """Record that the actor has read up to a message (the newest by default).

    Sends ``MessagesRead`` (the read receipt) on the conversation's channel when the
    read position moves forward. Returns the read position.
    """
    await _visible(session, actor, conversation_id)
    newest = int(
        await session.scalar(
            select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
        )
        or 0
    )
    target = newest if up_to is None else min(up_to, newest)
    participant = await _join(session, conversation_id, actor.id, now)
    if target > participant.last_read_message_id:
        participant.last_read_message_id = target
        await outbox.record(
            session,
            conversation_channel(conversation_id),
            "MessagesRead",
            {
                "conversation_id": conversation_id,
                "user_id": actor.id,
                "last_read_message_id": target,
            },
            now,
        )
    return participant.last_read_message_id
