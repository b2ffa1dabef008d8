"""The hub's side of a shared cluster, driven with a stand-in backplane: no network, no sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pusherd.apps import StaticAppStore
from pusherd.backplane.base import Counted, Joined, MemberJoin
from pusherd.backplane.codec import Envelope, Kind
from pusherd.hub import Hub
from pusherd.protocol import messages
from pusherd.protocol.names import EventName
from pusherd.protocol.session import Session
from tests.unit.protocol.support import decode, make_app, presence_subscribe

APP = make_app()
ROOM = "presence-room"


class Sink:
    """A connection that keeps the text of every frame written to it."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def write(self, frame: bytes) -> None:
        length, start = frame[1] & 0x7F, 2
        if length == 126:
            start = 4
        elif length == 127:
            start = 10
        self.texts.append(frame[start:].decode())

    def ping(self) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass

    def events(self) -> list[tuple[str, Any]]:
        return [(f["event"], f.get("data")) for f in map(decode, self.texts)]


class Cluster:
    """A shared backplane whose member-list answers the test gives when it chooses."""

    shared = True
    connected = True

    def __init__(self) -> None:
        self.joins: list[tuple[MemberJoin, Callable[[Joined | None], None]]] = []

    def publish(self, envelope: Envelope) -> None:
        pass

    def count(self, app_id: str, channel: str, delta: int, message: Any, on_done: Any) -> None:
        on_done(Counted(1))

    def join_member(self, join: MemberJoin, on_done: Callable[[Joined | None], None]) -> None:
        self.joins.append((join, on_done))

    def leave_member(self, app_id: str, channel: str, user_id: str, on_done: Any) -> None:
        on_done(True)


def joined_session(hub: Hub, socket_id: str, user_id: str) -> tuple[Session, Sink]:
    session = Session(APP, socket_id, 0.0)
    sink = Sink()
    session.sink = sink
    hub.connect(session)
    hub.receive_text(session, presence_subscribe(session, ROOM, user_id, {"name": user_id}))
    sink.texts.clear()
    return session, sink


def member_envelope(kind: Kind, user_id: str, serial: int) -> Envelope:
    if kind is Kind.MEMBER_ADDED:
        data = {"user_id": user_id, "user_info": {"name": user_id}}
        event = EventName.MEMBER_ADDED
    else:
        data = {"user_id": user_id}
        event = EventName.MEMBER_REMOVED
    message = messages.serialize_event(event, messages.dumps(data), ROOM)
    return Envelope(kind, APP.id, ROOM, message, serial=serial)


def members(*users: str) -> dict[str, str]:
    return {user: json.dumps({"name": user}) for user in users}


def make_hub() -> tuple[Hub, Cluster]:
    cluster = Cluster()
    return Hub(StaticAppStore([APP]), clock=lambda: 0.0, backplane=cluster), cluster


def test_member_changes_racing_the_member_list_follow_it_once_and_only_if_newer() -> None:
    hub, cluster = make_hub()
    _, sink = joined_session(hub, "1.1", "ann")
    ((_, answer),) = cluster.joins
    # Over pub/sub, before the answer: cid joined before the list was read (serial 4),
    # bob left after (serial 6).
    hub.receive_envelope(member_envelope(Kind.MEMBER_ADDED, "cid", 4))
    hub.receive_envelope(member_envelope(Kind.MEMBER_REMOVED, "bob", 6))
    assert sink.texts == []

    answer(Joined(True, members("ann", "bob", "cid"), serial=5))
    hub.receive_envelope(member_envelope(Kind.MEMBER_ADDED, "dan", 7))

    (succeeded, presence), *rest = sink.events()
    assert succeeded == "pusher_internal:subscription_succeeded"
    assert set(presence["presence"]["ids"]) == {"ann", "bob", "cid"}
    assert rest == [
        ("pusher_internal:member_removed", {"user_id": "bob"}),
        ("pusher_internal:member_added", {"user_id": "dan", "user_info": {"name": "dan"}}),
    ]
    assert hub.states[APP.id].joining == {}
    assert hub.states[APP.id].shown[ROOM].keys() == {"ann", "cid", "dan"}


def test_after_an_outage_local_subscribers_get_the_member_changes_they_missed() -> None:
    hub, cluster = make_hub()
    _, sink = joined_session(hub, "1.1", "ann")
    ((_, answer),) = cluster.joins
    answer(Joined(True, members("ann", "bob")))
    sink.texts.clear()

    listed = [[APP.id, ROOM, members("ann", "cid")], [APP.id, "presence-elsewhere", {}]]
    hub.receive_envelope(Envelope(Kind.SYNC, "", "node", json.dumps(listed)))

    assert sink.events() == [
        ("pusher_internal:member_removed", {"user_id": "bob"}),
        ("pusher_internal:member_added", {"user_id": "cid", "user_info": {"name": "cid"}}),
    ]
    assert hub.states[APP.id].shown[ROOM].keys() == {"ann", "cid"}


def test_a_member_joining_while_the_cluster_is_lost_is_shown_what_the_node_knew() -> None:
    hub, cluster = make_hub()
    _, first = joined_session(hub, "1.1", "ann")
    cluster.joins.pop()[1](Joined(True, members("ann", "bob")))
    first.texts.clear()

    _, second = joined_session(hub, "1.2", "cid")
    cluster.joins.pop()[1](None)

    ((_, presence),) = second.events()
    assert set(presence["presence"]["ids"]) == {"ann", "bob", "cid"}
    assert first.events() == [
        ("pusher_internal:member_added", {"user_id": "cid", "user_info": {"name": "cid"}})
    ]
