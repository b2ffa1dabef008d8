"""The helpdesk's tables, as SQLAlchemy 2 declarative models (times are naive UTC)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base every helpdesk table derives from."""


class User(Base):
    """A person who signs in: a buyer, a seller or a support agent."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: ``buyer``, ``seller`` or ``agent``
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Conversation(Base):
    """A chat between a buyer and a seller, or between a user and support."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``trade`` (buyer and seller) or ``support`` (a user and any agent)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    #: the product or order the trade is about, free text such as ``order:1042``
    reference: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime())
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime())


class Participant(Base):
    """A member of a conversation, with how far they have read."""

    __tablename__ = "participants"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(DateTime())


class Message(Base):
    """One chat message, stored before its event is published."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime())


class SlaPolicy(Base):
    """The first-response and resolution targets of one ticket priority."""

    __tablename__ = "sla_policies"

    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    #: the share of a target elapsed (in percent) at which a warning is raised
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)


class Ticket(Base):
    """A support ticket and the timestamps its measures are computed from."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(DateTime())
    updated_at: Mapped[datetime] = mapped_column(DateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    #: the SLA states already announced (``ok``/``warning``/``breached``), so each is sent once
    sla_first_response_state: Mapped[str] = mapped_column(String(16), default="ok")
    sla_resolution_state: Mapped[str] = mapped_column(String(16), default="ok")


class TicketComment(Base):
    """One comment on a ticket's thread."""

    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime())


class Stream(Base):
    """The last sequence number given out on one channel."""

    __tablename__ = "streams"

    channel: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEvent(Base):
    """An event written with the change it announces, delivered to pusherd afterwards."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("channel", "seq", name="uq_outbox_channel_seq"),
        Index("ix_outbox_published_at_id", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a UUID the event carries, for clients that deduplicate by id
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    #: the JSON text sent as the event's ``data``
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime())
    published_at: Mapped[datetime | None] = mapped_column(DateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
