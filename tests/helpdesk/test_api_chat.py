"""Chat through the API: conversations, messages, history, unread counts, read receipts."""

from __future__ import annotations

import concurrent.futures
import json

import httpx

from tests.helpdesk.conftest import Api, FakeClock


def open_trade(api: Api) -> int:
    answer = api.ok(
        "buyer",
        "POST",
        "/api/conversations",
        json={"kind": "trade", "subject": "Lamp", "counterpart_id": api.ids["seller"]},
    )
    return answer["id"]


def test_signing_in_with_a_wrong_password_is_refused(api: Api) -> None:
    answer = api.client.post("/api/login", json={"email": "buyer@example.test", "password": "no"})
    assert answer.status_code == 401


def test_the_api_refuses_requests_without_a_token(api: Api) -> None:
    assert api.client.get("/api/conversations").status_code == 401
    bad = api.client.get("/api/conversations", headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401


def test_a_message_is_stored_and_its_event_waits_in_the_outbox(api: Api, clock: FakeClock) -> None:
    cid = open_trade(api)
    clock.advance(minutes=1)
    sent = api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "Hello"})
    assert sent["body"] == "Hello" and sent["sender_id"] == api.ids["buyer"]
    events = api.ok("seller", "GET", f"/api/channels/private-conversation.{cid}/events?since=0")
    assert [e["event"] for e in events["events"]] == ["App\\Events\\MessageSent"]
    event = events["events"][0]
    assert event["seq"] == 1 and event["data"]["seq"] == 1
    assert event["data"]["message"]["id"] == sent["id"]
    assert event["data"]["event_id"] == event["event_id"]


def test_history_pages_backwards_in_order(api: Api, clock: FakeClock) -> None:
    cid = open_trade(api)
    for n in range(7):
        clock.advance(seconds=10)
        api.ok(
            "buyer" if n % 2 else "seller",
            "POST",
            f"/api/conversations/{cid}/messages",
            json={"body": f"m{n}"},
        )
    page = api.ok("buyer", "GET", f"/api/conversations/{cid}/messages?limit=3")
    assert [m["body"] for m in page["messages"]] == ["m4", "m5", "m6"]
    older = api.ok(
        "buyer", "GET", f"/api/conversations/{cid}/messages?limit=3&before={page['next_before']}"
    )
    assert [m["body"] for m in older["messages"]] == ["m1", "m2", "m3"]
    oldest = api.ok(
        "buyer", "GET", f"/api/conversations/{cid}/messages?limit=3&before={older['next_before']}"
    )
    assert [m["body"] for m in oldest["messages"]] == ["m0"]
    assert oldest["next_before"] is None


def test_unread_counts_fall_to_zero_after_a_read_receipt(api: Api) -> None:
    cid = open_trade(api)
    for body in ("one", "two", "three"):
        api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": body})
    [listed] = api.ok("seller", "GET", "/api/conversations")
    assert listed["unread"] == 3 and listed["last_message"]["body"] == "three"
    assert api.ok("buyer", "GET", "/api/conversations")[0]["unread"] == 0
    receipt = api.ok("seller", "POST", f"/api/conversations/{cid}/read", json={})
    assert api.ok("seller", "GET", "/api/conversations")[0]["unread"] == 0
    events = api.ok("buyer", "GET", f"/api/channels/private-conversation.{cid}/events?since=3")
    [read] = events["events"]
    assert read["event"] == "App\\Events\\MessagesRead"
    assert read["data"]["user_id"] == api.ids["seller"]
    assert read["data"]["last_read_message_id"] == receipt["last_read_message_id"]


def test_the_other_participant_is_told_of_unread_messages_on_their_own_channel(api: Api) -> None:
    cid = open_trade(api)
    api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "a"})
    api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "b"})
    channel = f"private-App.Models.User.{api.ids['seller']}"
    events = api.ok("seller", "GET", f"/api/channels/{channel}/events?since=0")["events"]
    assert [e["event"] for e in events] == [
        "App\\Events\\ConversationStarted",
        "App\\Events\\ConversationUpdated",
        "App\\Events\\ConversationUpdated",
    ]
    assert [e["data"]["unread"] for e in events[1:]] == [1, 2]


def test_a_non_participant_cannot_read_or_write_a_conversation(api: Api) -> None:
    cid = open_trade(api)
    assert api.call("buyer2", "GET", f"/api/conversations/{cid}/messages").status_code == 404
    posted = api.call("buyer2", "POST", f"/api/conversations/{cid}/messages", json={"body": "x"})
    assert posted.status_code == 404
    events = api.call("buyer2", "GET", f"/api/channels/private-conversation.{cid}/events")
    assert events.status_code == 404
    # Agents see support conversations only.
    assert api.call("agent", "GET", f"/api/conversations/{cid}").status_code == 404


def test_a_trade_conversation_needs_a_counterpart_of_the_other_side(api: Api) -> None:
    answer = api.call(
        "buyer",
        "POST",
        "/api/conversations",
        json={"kind": "trade", "subject": "x", "counterpart_id": api.ids["buyer2"]},
    )
    assert answer.status_code == 422


def test_an_agent_answering_support_joins_and_the_user_is_told(api: Api) -> None:
    support = api.ok(
        "buyer",
        "POST",
        "/api/conversations",
        json={"kind": "support", "subject": "Help with payment"},
    )
    cid = support["id"]
    queue = api.ok("agent", "GET", "/api/channels/private-agents/events?since=0")["events"]
    assert queue[-1]["event"] == "App\\Events\\ConversationStarted"
    api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": "Card declined"})
    assert [c["id"] for c in api.ok("agent2", "GET", "/api/conversations")] == [cid]
    api.ok("agent", "POST", f"/api/conversations/{cid}/messages", json={"body": "Looking now"})
    detail = api.ok("buyer", "GET", f"/api/conversations/{cid}")
    assert {p["id"] for p in detail["participants"]} == {api.ids["buyer"], api.ids["agent"]}
    assert detail["unread"] == 1


def test_events_since_returns_only_later_events_in_sequence(api: Api) -> None:
    cid = open_trade(api)
    for n in range(5):
        api.ok("buyer", "POST", f"/api/conversations/{cid}/messages", json={"body": str(n)})
    events = api.ok("seller", "GET", f"/api/channels/private-conversation.{cid}/events?since=2")
    assert [e["seq"] for e in events["events"]] == [3, 4, 5]
    assert [e["data"]["message"]["body"] for e in events["events"]] == ["2", "3", "4"]
    assert len({e["event_id"] for e in events["events"]}) == 3
    # data is exactly what goes to pusherd: the JSON text round-trips.
    assert json.loads(json.dumps(events["events"][0]["data"]))["seq"] == 3


def test_concurrent_posts_get_distinct_gapless_sequence_numbers(api: Api) -> None:
    """Buyer and seller post at once: every message is stored, and the channel's events are
    numbered 1..N without a gap or a repeat, in the order the messages were stored."""
    cid = open_trade(api)
    tokens = {who: api.token(who) for who in ("buyer", "seller")}
    per_person = 8

    def post_all(who: str) -> list[int]:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        ids = []
        with httpx.Client(base_url=str(api.client.base_url), timeout=60) as client:
            for n in range(per_person):
                answer = client.post(
                    f"/api/conversations/{cid}/messages",
                    headers=headers,
                    json={"body": f"{who} {n}"},
                )
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["id"])
        return ids

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        posted = list(pool.map(post_all, ["buyer", "seller"]))
    events = api.ok("seller", "GET", f"/api/channels/private-conversation.{cid}/events?since=0")
    seqs = [e["seq"] for e in events["events"]]
    assert seqs == list(range(1, 2 * per_person + 1))
    message_ids = [e["data"]["message"]["id"] for e in events["events"]]
    assert sorted(message_ids) == sorted(posted[0] + posted[1]) == message_ids
    # Each person's own messages keep the order they were sent in.
    for who in ("buyer", "seller"):
        mine = [
            e["data"]["message"]["body"]
            for e in events["events"]
            if e["data"]["message"]["body"].startswith(who)
        ]
        assert mine == [f"{who} {n}" for n in range(per_person)]
