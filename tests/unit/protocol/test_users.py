"""UserRegistry: signed-in users and watchlists (PROTOCOL.md §12.2-§12.5)."""

from __future__ import annotations

from typing import Any

from client_auth.signatures import token
from pusherd.protocol.session import Session
from pusherd.protocol.users import UserRegistry, watched_change, watchlist_events
from tests.unit.protocol.support import (
    KEY,
    SECRET,
    Node,
    assert_sent,
    frame,
    make_app,
    open_session,
    sent,
    signin,
)

WATCHING = make_app(enable_user_authentication=True, enable_watchlist=True)


def sign_in(node: Node, user: dict[str, Any]) -> Session:
    session = node.connect()
    node.receive(session, signin(session, user))
    return session


def watchlist(online: list[str], offline: list[str]) -> dict[str, Any]:
    events = [
        {"name": name, "user_ids": ids} for name, ids in (("online", online), ("offline", offline))
    ]
    return {
        "event": "pusher_internal:watchlist_events",
        "data": {"events": [e for e in events if e["user_ids"]]},
    }


def test_the_watchlist_frame_is_double_encoded_without_a_channel() -> None:
    assert watchlist_events(["7"], ["9"]) == (
        '{"event":"pusher_internal:watchlist_events","data":"{\\"events\\":['
        '{\\"name\\":\\"online\\",\\"user_ids\\":[\\"7\\"]},'
        '{\\"name\\":\\"offline\\",\\"user_ids\\":[\\"9\\"]}]}"}'
    )


def test_signing_in_sends_the_status_of_every_watched_id_after_success() -> None:
    node = Node(WATCHING)
    sign_in(node, {"id": "7"})

    session = sign_in(node, {"id": "1", "watchlist": ["9", "7", "8"]})

    frames = sent(session)
    assert [f["event"] for f in frames] == [
        "pusher:signin_success",
        "pusher_internal:watchlist_events",
    ]
    assert frames[1] == watchlist(["7"], ["9", "8"])


def test_an_all_offline_watchlist_leaves_out_the_online_group() -> None:
    node = Node(WATCHING)

    session = sign_in(node, {"id": "1", "watchlist": ["9"]})

    assert sent(session)[1:] == [watchlist([], ["9"])]


def test_a_user_without_a_watchlist_gets_no_watchlist_frame() -> None:
    node = Node(WATCHING)

    session = sign_in(node, {"id": "1"})

    assert [f["event"] for f in sent(session)] == ["pusher:signin_success"]


def test_watchers_hear_when_a_user_gets_its_first_connection_only() -> None:
    node = Node(WATCHING)
    watcher = sign_in(node, {"id": "1", "watchlist": ["7"]})
    sent(watcher)

    first = sign_in(node, {"id": "7"})
    heard = sent(watcher)
    sign_in(node, {"id": "7"})

    assert heard == [watchlist(["7"], [])]
    assert_sent(watcher)
    assert node.users.is_online("7")
    assert len(node.users.connections("7")) == 2
    assert first in node.users.connections("7")


def test_a_user_watching_itself_is_told_once_in_its_initial_frame() -> None:
    node = Node(WATCHING)

    session = sign_in(node, {"id": "1", "watchlist": ["1"]})

    assert sent(session)[1:] == [watchlist(["1"], [])]


def test_watchers_hear_when_a_users_last_connection_closes() -> None:
    node = Node(WATCHING)
    watcher = sign_in(node, {"id": "1", "watchlist": ["7"]})
    tab1, tab2 = sign_in(node, {"id": "7"}), sign_in(node, {"id": "7"})
    sent(watcher)

    not_last = node.users.sign_out(tab1)
    assert_sent(watcher)
    last = node.users.sign_out(tab2)

    assert not_last == []
    assert last == [watcher]
    assert_sent(watcher, watchlist([], ["7"]))
    assert not node.users.is_online("7")
    assert node.users.connections("7") == {}


def test_a_closed_watcher_is_forgotten() -> None:
    node = Node(WATCHING)
    watcher = sign_in(node, {"id": "1", "watchlist": ["7", "8"]})
    other = sign_in(node, {"id": "2", "watchlist": ["7"]})

    node.users.sign_out(watcher)

    assert node.users.watchers == {"7": {other: None}}
    node.users.sign_out(other)
    assert node.users.watchers == {}
    assert node.users.users == {}


def test_with_watchlists_off_nothing_is_sent_but_users_are_tracked() -> None:
    node = Node(make_app(enable_user_authentication=True))
    watcher = sign_in(node, {"id": "1", "watchlist": ["7"]})
    seven = sign_in(node, {"id": "7"})

    notified = node.users.sign_out(seven)

    assert [f["event"] for f in sent(watcher)] == ["pusher:signin_success"]
    assert notified == []
    assert node.users.is_online("1") and not node.users.is_online("7")


def test_numeric_watchlist_ids_are_compared_by_their_javascript_string_form() -> None:
    # user_data as a Python backend's json.dumps writes it: 7.0 is the user "7" (String(7)).
    node = Node(WATCHING)
    seven = sign_in(node, {"id": "7"})
    session = node.connect()
    user_data = '{"id":"1","watchlist":[7.0,8,true,null,[9],' + "9" * 400 + ',"10"]}'
    auth = token(KEY, SECRET, f"{session.socket_id}::user::{user_data}")

    node.receive(session, frame("pusher:signin", {"auth": auth, "user_data": user_data}))
    node.disconnect(seven)

    assert session.user is not None and session.user.watchlist == ("7", "8", "10")
    assert sent(session)[1:] == [watchlist(["7"], ["8", "10"]), watchlist([], ["7"])]


def test_registering_a_session_that_is_not_signed_in_does_nothing() -> None:
    users = UserRegistry(WATCHING)

    assert users.sign_in(open_session(WATCHING)) == []
    assert users.users == {} and users.watchers == {}


def test_signing_out_an_anonymous_or_unknown_session_does_nothing() -> None:
    users = UserRegistry(WATCHING)
    anonymous = open_session(WATCHING)
    node = Node(WATCHING)
    stranger = sign_in(node, {"id": "1", "watchlist": ["2"]})

    assert users.sign_out(anonymous) == []
    assert users.sign_out(stranger) == []
    assert users.users == {} and users.watchers == {}


def test_a_long_watchlist_gets_success_then_4302_then_the_kept_ids_status() -> None:
    node = Node(WATCHING)

    session = sign_in(node, {"id": "u", "watchlist": [str(i) for i in range(101)]})

    assert sent(session)[1:] == [
        {
            "event": "pusher:error",
            "data": {
                "code": 4302,
                "message": "Watchlist limit exceeded. Only the first 100 user IDs are accepted.",
            },
        },
        watchlist([], [str(i) for i in range(100)]),
    ]


def test_a_one_user_watchlist_frame_names_its_user_and_change() -> None:
    assert watched_change(watchlist_events(["7"], [])) == ("7", True)
    assert watched_change(watchlist_events([], ["7"])) == ("7", False)
    assert watched_change("not json") is None
    assert watched_change(watchlist_events([], [])) is None
