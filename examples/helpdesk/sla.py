"""SLA clocks: where a ticket stands against its priority's targets (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SlaState(StrEnum):
    """Where one SLA clock stands; ``met`` and ``missed`` are final."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


_RANK = {SlaState.OK: 0, SlaState.WARNING: 1, SlaState.BREACHED: 2, SlaState.MET: 0}


@dataclass(frozen=True)
class Policy:
    """The targets of one priority.

    Attributes:
        first_response: time allowed until an agent's first reply.
        resolution: time allowed until the ticket is resolved.
        warning_fraction: the elapsed share of a target at which a warning is due.
    """

    first_response: timedelta
    resolution: timedelta
    warning_fraction: float = 0.75


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a ticket.

    Attributes:
        state: where it stands at the time asked.
        due_at: when the target falls.
        warn_at: when a warning is due.
    """

    state: SlaState
    due_at: datetime
    warn_at: datetime


def clock(
    started: datetime, done: datetime | None, target: timedelta, fraction: float, now: datetime
) -> Clock:
    """Return the state of a clock started at ``started`` and stopped at ``done`` (if any)."""
    due = started + target
    warn = started + target * fraction
    if done is not None:
        state = SlaState.MET if done <= due else SlaState.BREACHED
    elif now >= due:
        state = SlaState.BREACHED
    elif now >= warn:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return Clock(state, due, warn)


def first_response_clock(
    created_at: datetime, first_response_at: datetime | None, policy: Policy, now: datetime
) -> Clock:
    """The first-response clock: from creation to an agent's first reply."""
    return clock(created_at, first_response_at, policy.first_response, policy.warning_fraction, now)


def resolution_clock(
    created_at: datetime, resolved_at: datetime | None, policy: Policy, now: datetime
) -> Clock:
    """The resolution clock: from creation to resolution."""
    return clock(created_at, resolved_at, policy.resolution, policy.warning_fraction, now)


def escalation(announced: SlaState | str, current: SlaState) -> SlaState | None:
    """Return the state to announce when ``current`` is worse than what was announced.

    A clock announces ``warning`` once and ``breached`` once, in that order; a clock that
    went straight to breached skips the warning. Returns None when nothing new is due.
    """
    before = SlaState(announced)
    if current in (SlaState.WARNING, SlaState.BREACHED) and _RANK[current] > _RANK[before]:
        return current
    return None
