"""Ticket statuses and who may move a ticket from one to another (pure)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A ticket's status."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER})
"""Statuses that count towards an agent's load and the SLA clocks."""

# open → in progress → waiting on customer → resolved → closed, plus reopen from the last two.
_AGENT_MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset(
        {Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    Status.WAITING_ON_CUSTOMER: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}
# A requester may mark their own ticket resolved, close it once resolved, or reopen it.
_REQUESTER_MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED}),
    Status.WAITING_ON_CUSTOMER: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


class TransitionError(ValueError):
    """A status change the workflow does not allow."""


def allowed_moves(current: Status, *, is_agent: bool) -> frozenset[Status]:
    """Return the statuses a ticket in ``current`` may move to, for an agent or its requester."""
    return (_AGENT_MOVES if is_agent else _REQUESTER_MOVES)[current]


def check_transition(current: Status, target: Status, *, is_agent: bool) -> None:
    """Raise :class:`TransitionError` unless ``current`` → ``target`` is allowed.

    Raises:
        TransitionError: the move is not in the workflow for this kind of user.
    """
    if target not in allowed_moves(current, is_agent=is_agent):
        who = "an agent" if is_agent else "the requester"
        raise TransitionError(f"{who} cannot move a ticket from {current} to {target}")


def is_reopen(current: Status, target: Status) -> bool:
    """Tell whether the move reopens a finished ticket."""
    return current in (Status.RESOLVED, Status.CLOSED) and target is Status.OPEN


def after_requester_comment(current: Status) -> Status:
    """The status a requester's comment leaves: a reply ends waiting on the customer."""
    return Status.IN_PROGRESS if current is Status.WAITING_ON_CUSTOMER else current
