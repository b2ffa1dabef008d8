"""Tickets through the API: opening, thread, workflow, assignment, rating, SLA events."""

from __future__ import annotations

import pytest

from examples.helpdesk.db import create_engine, sessionmaker
from examples.helpdesk.tickets import check_sla
from tests.helpdesk.conftest import Api, FakeClock, run_sync

NEW = {
    "subject": "Parcel lost",
    "category": "shipping",
    "priority": "high",
    "description": "Tracking stopped a week ago.",
}


def open_ticket(api: Api, who: str = "buyer", **changes: str) -> dict:
    return api.ok(who, "POST", "/api/tickets", json={**NEW, **changes})


def events(api: Api, who: str, channel: str, since: int = 0) -> list[dict]:
    return api.ok(who, "GET", f"/api/channels/{channel}/events?since={since}")["events"]


def names(items: list[dict]) -> list[str]:
    return [e["event"].removeprefix("App\\Events\\") for e in items]


def test_a_new_ticket_is_open_and_appears_in_the_agents_queue(api: Api) -> None:
    ticket = open_ticket(api)
    assert ticket["status"] == "open" and ticket["assignee"] is None
    assert ticket["sla"]["first_response"]["state"] == "ok"
    queue = events(api, "agent", "private-agents")
    assert names(queue) == ["TicketCreated"]
    assert queue[0]["data"]["ticket"]["id"] == ticket["id"]
    assert [t["id"] for t in api.ok("agent", "GET", "/api/tickets?scope=queue")] == [ticket["id"]]


def test_only_agents_may_listen_to_the_queue(api: Api) -> None:
    assert api.call("buyer", "GET", "/api/channels/private-agents/events").status_code == 404


def test_a_ticket_is_hidden_from_other_customers(api: Api) -> None:
    ticket = open_ticket(api)
    assert api.call("buyer2", "GET", f"/api/tickets/{ticket['id']}").status_code == 404
    assert api.ok("buyer2", "GET", "/api/tickets") == []


def test_invalid_tickets_are_refused(api: Api) -> None:
    assert (
        api.call("buyer", "POST", "/api/tickets", json={**NEW, "priority": "asap"}).status_code
        == 422
    )
    assert (
        api.call("buyer", "POST", "/api/tickets", json={**NEW, "subject": " "}).status_code == 422
    )
    assert api.call("agent", "POST", "/api/tickets", json=NEW).status_code == 403


def test_a_ticket_goes_through_its_whole_life(api: Api, clock: FakeClock) -> None:
    tid = open_ticket(api)["id"]
    clock.advance(minutes=5)
    assigned = api.ok(
        "agent", "POST", f"/api/tickets/{tid}/assign", json={"agent_id": api.ids["agent"]}
    )
    assert assigned["assignee"]["id"] == api.ids["agent"]
    clock.advance(minutes=10)
    api.ok(
        "agent", "POST", f"/api/tickets/{tid}/comments", json={"body": "Checking with the carrier"}
    )
    api.ok("agent", "POST", f"/api/tickets/{tid}/status", json={"status": "waiting_on_customer"})
    clock.advance(minutes=30)
    api.ok("buyer", "POST", f"/api/tickets/{tid}/comments", json={"body": "Here is the receipt"})
    detail = api.ok("buyer", "GET", f"/api/tickets/{tid}")
    assert detail["status"] == "in_progress"  # the customer's reply ends the wait
    assert detail["first_response_at"] == "2026-03-02T09:15:00.000Z"
    clock.advance(minutes=20)
    resolved = api.ok("agent", "POST", f"/api/tickets/{tid}/status", json={"status": "resolved"})
    assert resolved["resolved_at"] == "2026-03-02T10:05:00.000Z"
    assert resolved["sla"]["resolution"]["state"] == "met"
    rated = api.ok(
        "buyer", "POST", f"/api/tickets/{tid}/rating", json={"rating": 4, "comment": "Quick"}
    )
    assert (rated["rating"], rated["rating_comment"]) == (4, "Quick")
    api.ok("buyer", "POST", f"/api/tickets/{tid}/status", json={"status": "closed"})
    history = events(api, "buyer", f"presence-ticket.{tid}")
    assert names(history) == [
        "TicketCreated",
        "TicketAssigned",
        "TicketCommentAdded",
        "TicketStatusChanged",
        "TicketCommentAdded",
        "TicketStatusChanged",
        "TicketRated",
        "TicketStatusChanged",
    ]
    assert [e["seq"] for e in history] == list(range(1, 9))
    assert [c["body"] for c in detail["comments"]] == [
        "Checking with the carrier",
        "Here is the receipt",
    ]


def test_reopening_clears_the_resolution(api: Api) -> None:
    tid = open_ticket(api)["id"]
    api.ok("agent", "POST", f"/api/tickets/{tid}/status", json={"status": "resolved"})
    reopened = api.ok("buyer", "POST", f"/api/tickets/{tid}/status", json={"status": "open"})
    assert reopened["status"] == "open" and reopened["resolved_at"] is None


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("buyer", "status", {"status": "in_progress"}),
        ("agent", "status", {"status": "pending"}),
        ("buyer", "rating", {"rating": 5}),
    ],
)
def test_moves_outside_the_workflow_are_refused(api: Api, who: str, path: str, body: dict) -> None:
    tid = open_ticket(api)["id"]
    assert api.call(who, "POST", f"/api/tickets/{tid}/{path}", json=body).status_code == 422


def test_ratings_are_whole_numbers_from_one_to_five_by_the_requester(api: Api) -> None:
    tid = open_ticket(api)["id"]
    api.ok("agent", "POST", f"/api/tickets/{tid}/status", json={"status": "resolved"})
    for bad in (0, 6, 2.5, "5", True):
        assert (
            api.call(
                "buyer", "POST", f"/api/tickets/{tid}/rating", json={"rating": bad}
            ).status_code
            == 422
        )
    assert (
        api.call("agent", "POST", f"/api/tickets/{tid}/rating", json={"rating": 5}).status_code
        == 403
    )


def test_customers_cannot_assign(api: Api) -> None:
    tid = open_ticket(api)["id"]
    answer = api.call(
        "buyer", "POST", f"/api/tickets/{tid}/assign", json={"agent_id": api.ids["agent"]}
    )
    assert answer.status_code == 403
    to_customer = api.call(
        "agent", "POST", f"/api/tickets/{tid}/assign", json={"agent_id": api.ids["buyer"]}
    )
    assert to_customer.status_code == 422


def test_automatic_assignment_without_online_agents_is_refused(api: Api) -> None:
    tid = open_ticket(api)["id"]
    assert (
        api.call("agent", "POST", f"/api/tickets/{tid}/assign", json={"auto": True}).status_code
        == 422
    )


def test_sla_warning_then_breach_are_announced_once_each(api: Api, clock: FakeClock) -> None:
    tid = open_ticket(api, priority="urgent")["id"]  # first response within 15 min, warn at 75%

    def scan() -> int:
        async def run() -> int:
            engine = create_engine(api.database_url)
            try:
                async with sessionmaker(engine).begin() as session:
                    return await check_sla(session, clock())
            finally:
                await engine.dispose()

        return run_sync(run())

    clock.advance(minutes=11)
    assert scan() == 0
    clock.advance(minutes=1)  # 12 min: 80% of 15
    assert scan() == 1
    assert scan() == 0
    clock.advance(minutes=4)
    assert scan() == 1
    queue = events(api, "agent", "private-agents")
    assert names(queue) == ["TicketCreated", "TicketSlaWarning", "TicketSlaBreached"]
    assert {e["data"]["clock"] for e in queue[1:]} == {"first_response"}
    assert (
        api.ok("agent", "GET", f"/api/tickets/{tid}")["sla"]["first_response"]["state"]
        == "breached"
    )
