"""Creating users, and the demo marketplace the one-command start comes with."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from examples.helpdesk import chat, tickets
from examples.helpdesk.auth import ROLES, hash_password
from examples.helpdesk.models import User

DEMO_PASSWORD = "demo"  # noqa: S105 - the printed password of the demo accounts
DEMO_USERS = (
    ("ana@buyer.test", "Ana Buyer", "buyer"),
    ("ben@buyer.test", "Ben Buyer", "buyer"),
    ("sam@seller.test", "Sam Seller", "seller"),
    ("sue@seller.test", "Sue Seller", "seller"),
    ("alex@support.test", "Alex Agent", "agent"),
    ("kim@support.test", "Kim Agent", "agent"),
)


async def create_user(
    session: AsyncSession, email: str, name: str, role: str, password: str, now: datetime
) -> User:
    """Add a user with a hashed password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    user = User(
        email=email, name=name, role=role, password_hash=hash_password(password), created_at=now
    )
    session.add(user)
    await session.flush()
    return user


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Fill an empty database with demo people, a conversation and tickets.

    Returns:
        False (and changes nothing) when there are users already.
    """
    if await session.scalar(select(func.count(User.id))):
        return False
    people = {}
    for email, name, role in DEMO_USERS:
        people[email] = await create_user(session, email, name, role, DEMO_PASSWORD, now)
    ana, sam = people["ana@buyer.test"], people["sam@seller.test"]
    alex = people["alex@support.test"]
    start = now - timedelta(days=1)
    trade = await chat.start_conversation(
        session,
        ana,
        kind="trade",
        subject="Vintage lamp",
        reference="product:lamp-17",
        counterpart_id=sam.id,
        now=start,
    )
    for offset, who, body in (
        (0, ana, "Hi! Is the lamp still available?"),
        (4, sam, "Yes it is, ships tomorrow."),
        (6, ana, "Great, does it come with a bulb?"),
        (60 * 14, sam, "Good morning — yes, an LED bulb is included."),
    ):
        await chat.post_message(session, who, trade.id, body, start + timedelta(minutes=offset))
    ticket = await tickets.open_ticket(
        session,
        ana,
        subject="Parcel not delivered",
        category="shipping",
        priority="high",
        description="Order 1042 shows delivered but nothing arrived.",
        now=start,
    )
    await tickets.assign(session, alex, ticket.id, alex.id, start + timedelta(minutes=5))
    await tickets.add_comment(
        session,
        alex,
        ticket.id,
        "Sorry about that — I've opened a claim with the carrier.",
        start + timedelta(minutes=20),
    )
    await _resolved_history(session, people, now)
    await tickets.open_ticket(
        session,
        people["ben@buyer.test"],
        subject="Refund for a cancelled order",
        category="payment",
        priority="normal",
        description="I cancelled order 1077 yesterday.",
        now=now - timedelta(minutes=30),
    )
    return True


#: last week's tickets, so the reports have something to show:
#: (days ago, requester, agent, category, priority, subject,
#:  first response and resolution in minutes, rating)
HISTORY = (
    (6, "ana@buyer.test", "alex@support.test", "order", "normal", "Wrong colour sent", 12, 95, 5),
    (5, "ben@buyer.test", "kim@support.test", "payment", "high", "Charged twice", 8, 40, 4),
    (4, "sam@seller.test", "alex@support.test", "listing", "low", "Photos not showing", 45, 600, 3),
    (3, "sue@seller.test", "kim@support.test", "account", "urgent", "Locked out", 9, 35, 5),
    (2, "ben@buyer.test", "alex@support.test", "shipping", "normal", "Tracking stuck", 30, 1500, 2),
)


async def _resolved_history(session: AsyncSession, people: dict[str, User], now: datetime) -> None:
    for days, requester, agent, category, priority, subject, first, done, stars in HISTORY:
        opened = now - timedelta(days=days)
        customer, helper = people[requester], people[agent]
        ticket = await tickets.open_ticket(
            session,
            customer,
            subject=subject,
            category=category,
            priority=priority,
            description=subject + ".",
            now=opened,
        )
        await tickets.assign(session, helper, ticket.id, helper.id, opened + timedelta(minutes=1))
        at = opened + timedelta(minutes=first)
        await tickets.add_comment(session, helper, ticket.id, "Looking into it now.", at)
        at = opened + timedelta(minutes=done)
        await tickets.change_status(session, helper, ticket.id, "resolved", at)
        at += timedelta(minutes=10)
        await tickets.rate(session, customer, ticket.id, stars, None, at)
