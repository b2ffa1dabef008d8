"""The pure parts: workflow moves, SLA clocks, agent choice and the measures' arithmetic."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples.helpdesk.measures import (
    ChatMessage,
    Summary,
    chat_measures,
    gaps,
    percentile,
    response_times,
)
from examples.helpdesk.sla import Policy, SlaState, escalation, first_response_clock
from examples.helpdesk.tickets import least_loaded
from examples.helpdesk.workflow import (
    Status,
    TransitionError,
    allowed_moves,
    check_transition,
)

T0 = datetime(2026, 1, 1)
statuses = st.sampled_from(list(Status))


@given(statuses, statuses, st.booleans())
def test_check_transition_raises_exactly_for_moves_outside_the_workflow(
    current: Status, target: Status, is_agent: bool
) -> None:
    allowed = target in allowed_moves(current, is_agent=is_agent)
    if allowed:
        check_transition(current, target, is_agent=is_agent)
    else:
        with pytest.raises(TransitionError):
            check_transition(current, target, is_agent=is_agent)


@given(statuses)
def test_a_requester_can_do_nothing_an_agent_cannot(current: Status) -> None:
    assert allowed_moves(current, is_agent=False) <= allowed_moves(current, is_agent=True)


def test_finished_tickets_can_be_reopened_by_either_side() -> None:
    for who in (True, False):
        assert Status.OPEN in allowed_moves(Status.RESOLVED, is_agent=who)
        assert Status.OPEN in allowed_moves(Status.CLOSED, is_agent=who)


def test_the_workflow_reaches_every_status_from_open() -> None:
    seen, frontier = {Status.OPEN}, [Status.OPEN]
    while frontier:
        for nxt in allowed_moves(frontier.pop(), is_agent=True) - seen:
            seen.add(nxt)
            frontier.append(nxt)
    assert seen == set(Status)


POLICY = Policy(timedelta(minutes=60), timedelta(minutes=480), 0.75)


@pytest.mark.parametrize(
    ("minutes", "answered", "state"),
    [
        (10, None, "ok"),
        (45, None, "warning"),
        (60, None, "breached"),
        (90, 30, "met"),
        (90, 61, "breached"),
    ],
)
def test_the_first_response_clock(minutes: int, answered: int | None, state: str) -> None:
    done = None if answered is None else T0 + timedelta(minutes=answered)
    clock = first_response_clock(T0, done, POLICY, T0 + timedelta(minutes=minutes))
    assert clock.state == state and clock.due_at == T0 + timedelta(minutes=60)


@given(st.lists(st.integers(0, 200), min_size=1, max_size=30))
def test_sla_announcements_over_time_are_warning_then_breach_at_most_once(times: list[int]) -> None:
    announced, said = SlaState.OK, []
    for minute in sorted(times):
        state = first_response_clock(T0, None, POLICY, T0 + timedelta(minutes=minute)).state
        news = escalation(announced, state)
        if news is not None:
            said.append(news)
            announced = news
    assert said in ([], ["warning"], ["breached"], ["warning", "breached"])


def test_least_loaded_picks_the_online_agent_with_fewest_tickets() -> None:
    loads = {1: 3, 2: 1, 3: 1, 4: 0}
    assert least_loaded(loads, [1, 2, 3]) == 2  # tie between 2 and 3: lowest id
    assert least_loaded(loads, [1, 4]) == 4
    assert least_loaded(loads, []) is None


@given(
    st.dictionaries(st.integers(1, 20), st.integers(0, 9)), st.sets(st.integers(1, 20), min_size=1)
)
def test_nobody_online_has_fewer_tickets_than_the_chosen_agent(
    loads: dict[int, int], online: set[int]
) -> None:
    chosen = least_loaded(loads, online)
    assert chosen in online
    assert all(loads.get(chosen, 0) <= loads.get(other, 0) for other in online)


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([5, 10, 15, 20, 23, 25, 30, 35, 44], 90) == pytest.approx(36.8)
    assert percentile([7], 90) == 7
    assert Summary.of([]) == Summary(0, None, None, None)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_summaries_lie_between_the_extremes(values: list[float]) -> None:
    summary = Summary.of(values)
    low, high = min(values), max(values)
    for stat in (summary.mean, summary.median, summary.p90):
        assert stat is not None and low - 1e-6 <= stat <= high + 1e-6
    assert summary.median <= summary.p90 + 1e-6


conversations = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 100_000)), min_size=0, max_size=25
).map(
    lambda pairs: [
        ChatMessage(s, T0 + timedelta(seconds=sum(d for _, d in pairs[: i + 1])))
        for i, (s, _) in enumerate(pairs)
    ]
)


@given(conversations, st.floats(1, 200_000))
def test_long_pauses_are_separated_not_lost(messages: list[ChatMessage], threshold: float) -> None:
    measures = chat_measures([messages], long_pause=threshold)
    replies = response_times(messages)
    assert measures.response.count + measures.long_pauses == len(replies)
    assert measures.long_pause_seconds == pytest.approx(sum(r for r in replies if r > threshold))
    if messages:
        assert sum(gaps(messages)) == pytest.approx(
            (messages[-1].created_at - messages[0].created_at).total_seconds()
        )
