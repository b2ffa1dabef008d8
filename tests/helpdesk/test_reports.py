"""The measures on a fixed dataset whose answers were worked out by hand.

Tickets (all urgent: first response within 15 min, resolution within 240 min), created an
hour apart, with (first response, resolution) in minutes:

    shipping, agent:  (2, 5) (3, 10) (4, 15) (5, 20) (10, 23)
    payment,  agent:  (12, 25)
    payment,  agent2: (14, 30) (16, 35) (20, 44)
    payment, unassigned, still open, 30 min old, never answered

Resolution: 207 min / 9 = 23 min mean, median 23, p90 = 35 + 0.2 * 9 = 36.8 min.
First response: 86 / 9 min mean, median 10, p90 = 16 + 0.2 * 4 = 16.8 min; 7 of the 10
decided clocks were met (16, 20 and the open ticket's 30 missed). Ratings 5 5 4 4 4 3 2.

Chat, threshold 2 h. Conversation A: buyer 0:00, seller 0:04, buyer 0:06, buyer 0:07,
seller 14:00 (a 13 h 54 min overnight-length wait: a long pause), buyer 14:10. Conversation B:
seller 0:00, buyer 0:02, seller 0:03.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.helpdesk.conftest import START, Api, FakeClock

MIN = 60.0
TICKETS = [
    ("shipping", "agent", 2, 5, 5),
    ("shipping", "agent", 3, 10, 5),
    ("shipping", "agent", 4, 15, 4),
    ("shipping", "agent", 5, 20, 4),
    ("shipping", "agent", 10, 23, 4),
    ("payment", "agent", 12, 25, 3),
    ("payment", "agent2", 14, 30, 2),
    ("payment", "agent2", 16, 35, None),
    ("payment", "agent2", 20, 44, None),
]


def build_dataset(api: Api, clock: FakeClock) -> None:
    for n, (category, agent, first, resolved, rating) in enumerate(TICKETS):
        created = START + timedelta(hours=n)
        clock.now = created
        tid = api.ok(
            "buyer",
            "POST",
            "/api/tickets",
            json={
                "subject": f"t{n}",
                "category": category,
                "priority": "urgent",
                "description": "d",
            },
        )["id"]
        api.ok(agent, "POST", f"/api/tickets/{tid}/assign", json={"agent_id": api.ids[agent]})
        clock.now = created + timedelta(minutes=first)
        api.ok(agent, "POST", f"/api/tickets/{tid}/comments", json={"body": "on it"})
        clock.now = created + timedelta(minutes=resolved)
        api.ok(agent, "POST", f"/api/tickets/{tid}/status", json={"status": "resolved"})
        if rating is not None:
            api.ok("buyer", "POST", f"/api/tickets/{tid}/rating", json={"rating": rating})
    clock.now = START + timedelta(hours=9)
    api.ok(
        "buyer2",
        "POST",
        "/api/tickets",
        json={"subject": "open", "category": "payment", "priority": "urgent", "description": "d"},
    )

    def chat(opener: str, other: str, script: list[tuple[str, float]]) -> None:
        clock.now = START + timedelta(days=2)
        cid = api.ok(
            opener,
            "POST",
            "/api/conversations",
            json={"kind": "trade", "subject": "s", "counterpart_id": api.ids[other]},
        )["id"]
        for who, minute in script:
            clock.now = START + timedelta(days=2, minutes=minute)
            api.ok(who, "POST", f"/api/conversations/{cid}/messages", json={"body": "x"})

    chat(
        "buyer",
        "seller",
        [
            ("buyer", 0),
            ("seller", 4),
            ("buyer", 6),
            ("buyer", 7),
            ("seller", 14 * 60),
            ("buyer", 14 * 60 + 10),
        ],
    )
    chat("seller", "buyer", [("seller", 0), ("buyer", 2), ("seller", 3)])
    clock.now = START + timedelta(hours=9, minutes=30)


@pytest.fixture
def dataset(api: Api, clock: FakeClock) -> Api:
    build_dataset(api, clock)
    return api


def test_ticket_measures_match_the_hand_computed_answers(dataset: Api) -> None:
    tickets = dataset.ok("agent", "GET", "/api/reports")["tickets"]
    assert tickets["tickets"] == 10
    resolution = tickets["resolution"]
    assert resolution["count"] == 9
    assert resolution["mean"] == pytest.approx(23 * MIN)
    assert resolution["median"] == pytest.approx(23 * MIN)
    assert resolution["p90"] == pytest.approx(36.8 * MIN)
    first = tickets["first_response"]
    assert first["mean"] == pytest.approx(86 / 9 * MIN)
    assert first["median"] == pytest.approx(10 * MIN)
    assert first["p90"] == pytest.approx(16.8 * MIN)
    assert tickets["sla_first_response_attainment"] == pytest.approx(7 / 10)
    assert tickets["sla_resolution_attainment"] == pytest.approx(1.0)
    assert tickets["rated"] == 7
    assert tickets["rating_average"] == pytest.approx(27 / 7)
    assert tickets["rating_distribution"] == {"1": 0, "2": 1, "3": 1, "4": 3, "5": 2}


def test_chat_measures_separate_the_overnight_pause(dataset: Api) -> None:
    chat = dataset.ok("agent", "GET", "/api/reports")["chat"]
    assert (chat["conversations"], chat["messages"]) == (2, 9)
    assert chat["messages_per_conversation"]["mean"] == pytest.approx(4.5)
    assert chat["first_response"]["mean"] == pytest.approx(3 * MIN)
    assert chat["between_messages"]["median"] == pytest.approx(2 * MIN)
    # Replies waited 4, 2, 10, 2 and 1 minutes, plus one 13 h 54 min overnight pause.
    assert chat["response"]["count"] == 5
    assert chat["response"]["mean"] == pytest.approx(3.8 * MIN)
    assert chat["response"]["median"] == pytest.approx(2 * MIN)
    assert chat["long_pauses"] == 1
    assert chat["long_pause_seconds"] == pytest.approx((13 * 60 + 54) * MIN)


FILTERS = [
    ("category=shipping", 5, 14.6),
    ("category=payment", 4, 33.5),
    ("agent={agent2}", 3, 109 / 3),
    ("from=2026-03-02T12:00:00&to=2026-03-02T15:00:00", 3, (20 + 23 + 25) / 3),
]


def test_filters_narrow_the_ticket_measures(dataset: Api) -> None:
    for query, count, mean_minutes in FILTERS:
        path = "/api/reports?" + query.format(agent2=dataset.ids["agent2"])
        resolution = dataset.ok("agent", "GET", path)["tickets"]["resolution"]
        assert resolution["count"] == count, query
        assert resolution["mean"] == pytest.approx(mean_minutes * MIN), query


def test_the_csv_export_carries_the_same_figures(dataset: Api) -> None:
    answer = dataset.call("agent", "GET", "/api/reports.csv?category=shipping")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = {
        (r["section"], r["measure"]): r["value"] for r in csv.DictReader(io.StringIO(answer.text))
    }
    assert float(rows[("tickets", "resolution.mean")]) == pytest.approx(14.6 * MIN)
    assert rows[("tickets", "rating_distribution.4")] == "3"
    assert rows[("chat", "long_pauses")] == "1"


def test_reports_are_for_agents_only(dataset: Api) -> None:
    assert dataset.call("buyer", "GET", "/api/reports").status_code == 403
