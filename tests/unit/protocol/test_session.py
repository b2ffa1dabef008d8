"""Session: one connection's protocol, driven by input with ``now`` (PROTOCOL.md §3-§5, §7, §11-§13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from client_auth import authorize_channel
from client_auth.signatures import token
from pusherd.protocol.channels import (
    ChannelKind,
    ChannelType,
    classify,
    is_valid_name_characters,
)
from pusherd.protocol.errors import ServerShuttingDown, Terminated
from pusherd.protocol.session import (
    ClientEvent,
    Close,
    Join,
    Leave,
    Member,
    SendPing,
    Session,
    SignIn,
    State,
)
from tests.unit.protocol.support import (
    INVALID_FORMAT,
    KEY,
    SECRET,
    SOCKET_ID,
    assert_sent,
    error,
    frame,
    make_app,
    open_session,
    parse_wire,
    presence_subscribe,
    private_subscribe,
    sent,
    signin,
    subscribe,
    subscription_error,
    succeeded,
    unsubscribe,
)

PUBLIC = ChannelKind(ChannelType.PUBLIC, False)
PRIVATE = ChannelKind(ChannelType.PRIVATE, False)
PRESENCE = ChannelKind(ChannelType.PRESENCE, False)


def joined(session: Session) -> None:
    """Do what the registry does on a successful join, for the session's own Join effects."""
    for effect in session.effects():
        assert isinstance(effect, Join)
        session.subscriptions[effect.channel] = effect.member
        if effect.kind.authorizes_connection:
            session.authorized = True


def signed_in(session: Session, user: dict[str, Any]) -> None:
    session.receive_text(signin(session, user), 0.0)
    assert [type(e) for e in session.effects()] == [SignIn]
    session.messages_to_send()


# §3 connection_established


def test_the_first_frame_is_connection_established_with_socket_id_and_timeout() -> None:
    session = Session(make_app(), "123456.7890123", 0.0, activity_timeout=120)

    frames = session.messages_to_send()

    assert json.loads(frames[0]) == {
        "event": "pusher:connection_established",
        "data": '{"socket_id":"123456.7890123","activity_timeout":120}',
    }
    assert frames[1:] == []
    assert session.effects() == []


# §4 liveness


@pytest.mark.parametrize("text", ['{"event":"pusher:ping","data":{}}', '{"event":"pusher:ping"}'])
def test_a_ping_with_or_without_data_is_answered_with_a_pong(text: str) -> None:
    session = open_session()

    session.receive_text(text, 1.0)

    assert_sent(session, {"event": "pusher:pong", "data": {}})
    assert session.effects() == []


def test_a_client_pong_is_accepted_silently() -> None:
    session = open_session()

    session.receive_text('{"event":"pusher:pong","data":{}}', 1.0)

    assert_sent(session)
    assert session.effects() == []


def test_nothing_happens_before_the_activity_timeout() -> None:
    session = open_session()

    session.tick(119.9)

    assert_sent(session)
    assert session.effects() == []


def test_silence_for_the_activity_timeout_sends_both_pings_once() -> None:
    session = open_session()

    session.tick(120.0)
    session.tick(125.0)

    assert_sent(session, {"event": "pusher:ping", "data": {}})
    assert session.effects() == [SendPing()]


def test_no_answer_within_30_seconds_of_the_ping_closes_with_4201() -> None:
    session = open_session()
    session.tick(120.0)
    session.messages_to_send()
    session.effects()

    session.tick(149.9)
    assert_sent(session)
    session.tick(150.0)

    assert_sent(session, error(4201, "Pong reply not received"))
    assert session.effects() == [Close(4201, "Pong reply not received")]
    assert session.state is State.CLOSED


@pytest.mark.parametrize(
    "answer",
    [
        lambda s, now: s.receive_text('{"event":"pusher:pong","data":{}}', now),
        lambda s, now: s.receive_text("not json", now),
        lambda s, now: s.receive_binary(now),
        lambda s, now: s.receive_activity(now),  # a WebSocket pong frame
    ],
    ids=["pusher-pong", "any-text", "binary", "websocket-pong"],
)
def test_any_inbound_frame_after_the_ping_keeps_the_connection(answer: Any) -> None:
    session = open_session()
    session.tick(120.0)
    answer(session, 140.0)
    session.messages_to_send()
    session.effects()

    session.tick(170.0)
    session.tick(259.9)

    assert_sent(session)
    assert session.effects() == []
    assert session.state is State.OPEN


def test_a_closed_session_ignores_input_and_ticks() -> None:
    session = open_session()
    session.tick(120.0)
    session.tick(150.0)
    session.messages_to_send()
    session.effects()

    session.receive_text('{"event":"pusher:ping"}', 151.0)
    session.receive_binary(152.0)
    session.tick(1000.0)
    session.close(Terminated())

    assert_sent(session)
    assert session.effects() == []


# §12.6 authorized connections


def test_an_unauthorized_connection_is_closed_with_4009_at_the_timeout() -> None:
    session = open_session(make_app(timeout_authorization=30.0))

    session.tick(29.9)
    assert_sent(session)
    session.tick(30.0)

    assert_sent(session, error(4009, "Connection not authorized within timeout"))
    assert session.effects() == [Close(4009, "Connection not authorized within timeout")]


def test_a_private_subscription_authorizes_the_connection() -> None:
    session = open_session(make_app(timeout_authorization=30.0))
    session.receive_text(private_subscribe(session, "private-a"), 1.0)
    joined(session)

    session.tick(30.0)

    assert_sent(session)
    assert session.state is State.OPEN


def test_a_sign_in_authorizes_the_connection_and_a_failed_one_does_not() -> None:
    app = make_app(timeout_authorization=30.0, enable_user_authentication=True)
    failed, good = open_session(app), open_session(app)
    failed.receive_text(frame("pusher:signin", {"auth": "x", "user_data": "{}"}), 1.0)
    signed_in(good, {"id": "1"})

    failed.tick(30.0)
    good.tick(30.0)

    assert failed.state is State.CLOSED
    assert good.state is State.OPEN


def test_a_public_subscription_does_not_authorize_the_connection() -> None:
    session = open_session(make_app(timeout_authorization=30.0))
    session.receive_text(subscribe("public"), 1.0)
    joined(session)

    session.tick(30.0)

    assert session.state is State.CLOSED


# §13 malformed input


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '"pusher:ping"',
        "null",
        "{}",
        '{"event":1}',
        '{"event":null}',
        '{"event":"pusher:ping"',
        '{"event":"client-a","channel":"private-a","data":NaN}',
        '{"event":"client-a","channel":"private-a","data":Infinity}',
        '{"event":"client-a","channel":"private-a","data":1e400}',
        '{"event":"client-a","channel":"private-a","data":"\\ud800"}',
        '{"event":"\\udc00"}',
        '{"event":"pusher:subscribe"}',
        '{"event":"pusher:subscribe","data":"{\\"channel\\":\\"a\\"}"}',
        '{"event":"pusher:subscribe","data":{}}',
        '{"event":"pusher:subscribe","data":{"channel":1}}',
        '{"event":"pusher:unsubscribe","data":[]}',
        '{"event":"pusher:unsubscribe","data":{"channel":null}}',
        '{"event":"client-a","data":{}}',
        '{"event":"client-a","channel":["private-a"],"data":{}}',
        "[" * 100_000,
    ],
)
def test_malformed_input_is_answered_with_invalid_message_format(text: str) -> None:
    session = open_session(make_app(enable_client_events=True))

    session.receive_text(text, 1.0)

    assert_sent(session, INVALID_FORMAT)
    assert session.effects() == []
    assert session.state is State.OPEN


def test_a_binary_frame_is_answered_with_invalid_message_format() -> None:
    session = open_session()

    session.receive_binary(1.0)

    assert_sent(session, INVALID_FORMAT)


@pytest.mark.parametrize(
    "event", ["pusher:hello", "pusher_internal:subscription_succeeded", "my-event", "Client-a", ""]
)
def test_an_unknown_event_is_answered_with_pushers_unsupported_text(event: str) -> None:
    session = open_session()

    session.receive_text(frame(event, {}), 1.0)

    assert_sent(session, error(None, f"Unsupported event received on socket: '{event}'"))
    assert session.state is State.OPEN


# §7 subscribe


def test_a_public_subscription_asks_to_join_with_no_reply_yet() -> None:
    session = open_session()

    session.receive_text('{"event":"pusher:subscribe","data":{"channel":"my-channel"}}', 1.0)

    assert session.effects() == [Join("my-channel", PUBLIC, None)]
    assert_sent(session)


def test_auth_and_channel_data_are_ignored_on_public_channels() -> None:
    session = open_session()

    session.receive_text(subscribe("cache-a", auth="junk", channel_data="junk"), 1.0)

    assert session.effects() == [Join("cache-a", ChannelKind(ChannelType.PUBLIC, True), None)]


@pytest.mark.parametrize(
    ("channel", "kind"),
    [
        ("private-a", PRIVATE),
        ("private-cache-a", ChannelKind(ChannelType.PRIVATE, True)),
        ("private-encrypted-a", ChannelKind(ChannelType.ENCRYPTED, False)),
        ("private-encrypted-cache-a", ChannelKind(ChannelType.ENCRYPTED, True)),
    ],
)
def test_a_private_subscription_signed_over_socket_and_channel_asks_to_join(
    channel: str, kind: ChannelKind
) -> None:
    session = open_session()

    session.receive_text(private_subscribe(session, channel), 1.0)

    assert session.effects() == [Join(channel, kind, None)]
    assert_sent(session)


def test_the_documented_private_token_is_accepted() -> None:
    session = open_session()
    auth = f"{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"

    session.receive_text(subscribe("private-foobar", auth=auth), 1.0)

    assert session.effects() == [Join("private-foobar", PRIVATE, None)]


def test_a_private_token_that_also_signs_channel_data_is_accepted() -> None:
    session = open_session()
    data = '{"user_id":"1"}'
    auth = token(KEY, SECRET, f"{SOCKET_ID}:private-a:{data}")

    session.receive_text(subscribe("private-a", auth=auth, channel_data=data), 1.0)

    assert session.effects() == [Join("private-a", PRIVATE, None)]


def test_a_presence_subscription_carries_the_member_from_channel_data() -> None:
    session = open_session()
    auth = f"{KEY}:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'

    session.receive_text(subscribe("presence-foobar", auth=auth, channel_data=data), 1.0)

    member = Member("10", 10, {"name": "Mr. Channels"})
    assert session.effects() == [Join("presence-foobar", PRESENCE, member)]


def test_presence_without_channel_data_uses_the_signed_in_user() -> None:
    session = open_session(make_app(enable_user_authentication=True))
    signed_in(session, {"id": "7", "user_info": {"name": "Ann"}})
    auth = token(KEY, SECRET, f"{session.socket_id}:presence-cache-a")

    session.receive_text(subscribe("presence-cache-a", auth=auth), 1.0)

    member = Member("7", "7", {"name": "Ann"})
    kind = ChannelKind(ChannelType.PRESENCE, True)
    assert session.effects() == [Join("presence-cache-a", kind, member)]


def test_channel_data_wins_over_the_signed_in_user() -> None:
    session = open_session(make_app(enable_user_authentication=True))
    signed_in(session, {"id": "7"})

    session.receive_text(presence_subscribe(session, "presence-a", "8", {"n": 1}), 1.0)

    assert session.effects() == [Join("presence-a", PRESENCE, Member("8", "8", {"n": 1}))]


def test_a_user_channel_of_the_signed_in_user_succeeds_without_joining() -> None:
    session = open_session(make_app(enable_user_authentication=True))
    signed_in(session, {"id": "12345"})

    session.receive_text(subscribe("#server-to-user-12345"), 1.0)

    assert_sent(session, succeeded("#server-to-user-12345"))
    assert session.effects() == []


LONG = "a" * 201


@pytest.mark.parametrize(
    ("text", "channel", "type_", "message", "status"),
    [
        (
            subscribe("private-a"),
            "private-a",
            "AuthError",
            "Auth value for subscription to private-a is invalid: should be of format 'key:signature'",
            401,
        ),
        (
            frame("pusher:subscribe", {"channel": "private-a"}),
            "private-a",
            "AuthError",
            "Auth value for subscription to private-a is invalid: should be of format 'key:signature'",
            401,
        ),
        (
            subscribe("presence-a", auth=12),
            "presence-a",
            "AuthError",
            "Auth value for subscription to presence-a is invalid: should be of format 'key:signature'",
            401,
        ),
        (
            subscribe("private-a", auth="wrongkey:abc"),
            "private-a",
            "AuthError",
            "Invalid key in subscription auth data: 'wrongkey'",
            401,
        ),
        (
            subscribe("private-a", auth=f"{KEY}:{'0' * 64}"),
            "private-a",
            "AuthError",
            f"Invalid signature: Expected HMAC SHA256 hex digest of {SOCKET_ID}:private-a, but got {'0' * 64}",
            401,
        ),
        (
            subscribe("private-a", auth=f"{KEY}:{'0' * 64}", channel_data='{"user_id":1}'),
            "private-a",
            "AuthError",
            f"Invalid signature: Expected HMAC SHA256 hex digest of {SOCKET_ID}:private-a, but got {'0' * 64}",
            401,
        ),
        (
            subscribe("presence-a", auth=f"{KEY}:{'0' * 64}", channel_data='{"user_id":1}'),
            "presence-a",
            "AuthError",
            f'Invalid signature: Expected HMAC SHA256 hex digest of {SOCKET_ID}:presence-a:{{"user_id":1}}, but got {"0" * 64}',
            401,
        ),
        (
            subscribe("#server-to-user-12345"),
            "#server-to-user-12345",
            "AuthError",
            "Connection is not signed in as user 12345",
            401,
        ),
        (subscribe(""), "", "InvalidChannel", "Invalid channel name", 4009),
        (subscribe("a b"), "a b", "InvalidChannel", "Invalid channel name", 4009),
        (subscribe("café"), "café", "InvalidChannel", "Invalid channel name", 4009),
        (subscribe("#other"), "#other", "InvalidChannel", "Invalid channel name", 4009),
        (
            subscribe("#server-to-user-"),
            "#server-to-user-",
            "InvalidChannel",
            "Invalid channel name",
            4009,
        ),
        (
            subscribe("private-" + LONG, auth="bad"),
            "private-" + LONG,
            "LimitReached",
            "The channel name is longer than the allowed 200 characters.",
            4009,
        ),
    ],
)
def test_a_refused_subscription_gets_the_exact_7_4_error(
    text: str, channel: str, type_: str, message: str, status: int
) -> None:
    session = open_session()

    session.receive_text(text, 1.0)

    assert_sent(session, subscription_error(channel, type_, message, status))
    assert session.effects() == []
    assert session.state is State.OPEN


def test_a_200_character_channel_name_is_accepted() -> None:
    session = open_session()
    name = "a" * 200

    session.receive_text(subscribe(name), 1.0)

    assert session.effects() == [Join(name, PUBLIC, None)]


def test_a_token_for_another_socket_is_refused() -> None:
    session = open_session()
    other = authorize_channel(KEY, SECRET, "1.2", "private-a")

    session.receive_text(subscribe("private-a", **other), 1.0)

    [refusal] = sent(session)
    assert refusal["data"]["type"] == "AuthError"


@pytest.mark.parametrize(
    "channel_data",
    [
        "not json",
        "[]",
        "{}",
        '{"user_id":null}',
        '{"user_id":true}',
        '{"user_id":[1]}',
        '{"user_id":{"a":1}}',
        '{"user_id":NaN}',
        '{"user_id":1e400}',
        # JSON.parse would make it Infinity: no number a client could compare
        '{"user_id":' + "9" * 400 + "}",
    ],
)
def test_presence_channel_data_without_a_string_or_number_user_id_is_refused(
    channel_data: str,
) -> None:
    session = open_session()
    auth = token(KEY, SECRET, f"{SOCKET_ID}:presence-a:{channel_data}")

    session.receive_text(subscribe("presence-a", auth=auth, channel_data=channel_data), 1.0)

    assert_sent(session, subscription_error("presence-a", "AuthError", "Invalid channel_data", 401))


@pytest.mark.parametrize("channel_data", [None, 5])
def test_presence_without_channel_data_on_an_anonymous_connection_is_refused(
    channel_data: Any,
) -> None:
    session = open_session()
    auth = token(KEY, SECRET, f"{session.socket_id}:presence-a")

    session.receive_text(subscribe("presence-a", auth=auth, channel_data=channel_data), 1.0)

    assert_sent(session, subscription_error("presence-a", "AuthError", "Invalid channel_data", 401))


def test_presence_limits_are_left_to_the_registry_which_knows_the_members() -> None:
    session = open_session()

    session.receive_text(presence_subscribe(session, "presence-a", "u" * 129, "x" * 2000), 1.0)

    assert session.effects() == [
        Join("presence-a", PRESENCE, Member("u" * 129, "u" * 129, "x" * 2000))
    ]
    assert_sent(session)


def signed_presence(session: Session, channel: str, channel_data: str) -> str:
    """A presence subscribe signed over ``channel_data`` exactly as given."""
    auth = token(KEY, SECRET, f"{session.socket_id}:{channel}:{channel_data}")
    return subscribe(channel, auth=auth, channel_data=channel_data)


def test_an_empty_string_user_id_is_a_string_user_id() -> None:
    # "a JSON object with a string or number user_id" (AUTH.md §3); the Node SDK signs it too.
    session = open_session()

    session.receive_text(presence_subscribe(session, "presence-a", "", {"n": 1}), 1.0)

    assert session.effects() == [Join("presence-a", PRESENCE, Member("", "", {"n": 1}))]
    assert_sent(session)


@pytest.mark.parametrize(
    ("user_id", "raw", "text"),
    [
        ("1.0", 1.0, "1"),
        ("-0.0", -0.0, "0"),
        ("1.5", 1.5, "1.5"),
        ("1e-7", 1e-7, "1e-7"),
        ("0.00001", 1e-5, "0.00001"),
        ("1e16", 1e16, "10000000000000000"),
        ("1e21", 1e21, "1e+21"),
        ("18446744073709551616", 2**64, "18446744073709552000"),
        ("9007199254740993", 2**53 + 1, "9007199254740992"),
        ("9007199254740992", 2**53, "9007199254740992"),
        ("-42", -42, "-42"),
    ],
)
def test_a_numeric_user_id_is_known_by_its_javascript_string_form(
    user_id: str, raw: Any, text: str
) -> None:
    # A Python backend's json.dumps writes 1.0; pusher-js keys the member String(1) = "1".
    session = open_session()

    session.receive_text(signed_presence(session, "presence-a", f'{{"user_id":{user_id}}}'), 1.0)

    [join] = session.effects()
    assert isinstance(join, Join) and join.member is not None
    assert (join.member.user_id, join.member.raw_user_id) == (text, raw)
    assert type(join.member.raw_user_id) is type(raw)


@pytest.mark.parametrize("channel", ["private-a", "private-encrypted-a", "presence-a"])
@pytest.mark.parametrize(
    "auth", [{}, {"auth": f"{KEY}:{'0' * 64}"}, {"auth": "wrong:key"}, {"auth": 7}]
)
def test_subscribing_again_needs_no_valid_token_and_changes_nothing(
    channel: str, auth: dict[str, Any]
) -> None:
    # "Subscribing again to a channel the connection is already in: no state change, reply
    # with subscription_succeeded again ... and no error" (PROTOCOL.md §7.2).
    member = Member("7", 7, None) if channel.startswith("presence-") else None
    session = member_of(open_session(), channel, member)

    session.receive_text(subscribe(channel, **auth, channel_data='{"user_id":"8"}'), 1.0)

    assert session.effects() == [Join(channel, classify(channel), member)]
    assert_sent(session)
    assert session.subscriptions == {channel: member}


def test_a_bad_token_for_a_channel_not_joined_is_still_refused() -> None:
    session = member_of(open_session(), "private-a")

    session.receive_text(subscribe("private-b", auth=f"{KEY}:{'0' * 64}"), 1.0)

    [refusal] = sent(session)
    assert refusal["event"] == "pusher:subscription_error"
    assert session.effects() == []


def test_has_output_tells_whether_frames_or_effects_wait_without_taking_them() -> None:
    session = Session(make_app(), SOCKET_ID, 0.0)
    assert session.has_output()
    session.messages_to_send()
    assert not session.has_output()

    session.receive_text(subscribe("my-channel"), 1.0)

    assert session.has_output() and session.has_output()
    assert session.effects() == [Join("my-channel", PUBLIC, None)]
    assert not session.has_output()


def test_unsubscribing_from_a_channel_not_joined_is_ignored() -> None:
    session = open_session()

    session.receive_text(unsubscribe("my-channel"), 1.0)

    assert_sent(session)
    assert session.effects() == []


def test_unsubscribing_from_a_joined_channel_asks_to_leave_with_no_reply() -> None:
    session = open_session()
    session.receive_text(subscribe("my-channel"), 1.0)
    joined(session)

    session.receive_text(unsubscribe("my-channel"), 2.0)

    assert session.effects() == [Leave("my-channel")]
    assert_sent(session)


# §12 sign-in


SIGNIN_APP = make_app(enable_user_authentication=True)


def test_a_valid_sign_in_echoes_the_signed_user_data_string() -> None:
    session = open_session(SIGNIN_APP)
    text = signin(session, {"id": "12345", "user_info": {"name": "Ann"}, "watchlist": ["7"]})
    user_data = json.loads(text)["data"]["user_data"]

    session.receive_text(text, 1.0)

    [success] = session.messages_to_send()
    assert json.loads(success) == {
        "event": "pusher:signin_success",
        "data": {"user_data": user_data},
    }
    [effect] = session.effects()
    assert isinstance(effect, SignIn)
    assert (effect.user.id, effect.user.user_info, effect.user.watchlist) == (
        "12345",
        {"name": "Ann"},
        ("7",),
    )
    assert session.user == effect.user
    assert session.authorized


def test_the_documented_sign_in_token_is_accepted() -> None:
    session = open_session(SIGNIN_APP)
    auth = f"{KEY}:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"

    session.receive_text(frame("pusher:signin", {"auth": auth, "user_data": '{"id":"12345"}'}), 1.0)

    assert [type(e) for e in session.effects()] == [SignIn]


def _signin_with(user_data: str) -> str:
    auth = token(KEY, SECRET, f"{SOCKET_ID}::user::{user_data}")
    return frame("pusher:signin", {"auth": auth, "user_data": user_data})


@pytest.mark.parametrize(
    ("app", "text", "message"),
    [
        (make_app(), _signin_with('{"id":"1"}'), "User authentication is not enabled for this app"),
        (SIGNIN_APP, '{"event":"pusher:signin"}', "Invalid sign-in data"),
        (SIGNIN_APP, frame("pusher:signin", "x"), "Invalid sign-in data"),
        (SIGNIN_APP, frame("pusher:signin", {"user_data": "{}"}), "Invalid sign-in data"),
        (SIGNIN_APP, frame("pusher:signin", {"auth": "k:s"}), "Invalid sign-in data"),
        (
            SIGNIN_APP,
            frame("pusher:signin", {"auth": 1, "user_data": '{"id":"1"}'}),
            "Invalid sign-in data",
        ),
        (
            SIGNIN_APP,
            frame("pusher:signin", {"auth": "k:s", "user_data": {"id": "1"}}),
            "Invalid sign-in data",
        ),
        (
            SIGNIN_APP,
            frame("pusher:signin", {"auth": "nocolon", "user_data": '{"id":"1"}'}),
            "Invalid signature",
        ),
        (
            SIGNIN_APP,
            frame("pusher:signin", {"auth": f"{KEY}:", "user_data": '{"id":"1"}'}),
            "Invalid signature",
        ),
        (
            SIGNIN_APP,
            frame(
                "pusher:signin",
                {
                    "auth": "other:" + token(KEY, SECRET, "x").split(":")[1],
                    "user_data": '{"id":"1"}',
                },
            ),
            "Invalid signature",
        ),
        (
            SIGNIN_APP,
            frame("pusher:signin", {"auth": f"{KEY}:{'0' * 64}", "user_data": '{"id":"1"}'}),
            "Invalid signature",
        ),
        (
            SIGNIN_APP,
            _signin_with("not json"),
            'The user data must contain a non-empty string "id" field.',
        ),
        (
            SIGNIN_APP,
            _signin_with("[]"),
            'The user data must contain a non-empty string "id" field.',
        ),
        (
            SIGNIN_APP,
            _signin_with('{"id":1}'),
            'The user data must contain a non-empty string "id" field.',
        ),
        (
            SIGNIN_APP,
            _signin_with('{"id":""}'),
            'The user data must contain a non-empty string "id" field.',
        ),
        (SIGNIN_APP, _signin_with('{"id":"a b"}'), "Invalid user id"),
        (SIGNIN_APP, _signin_with(json.dumps({"id": "u" * 129})), "Invalid user id"),
    ],
)
def test_a_refused_sign_in_gets_one_4009_error_and_the_connection_stays(
    app: Any, text: str, message: str
) -> None:
    session = open_session(app)

    session.receive_text(text, 1.0)

    assert_sent(session, error(4009, message))
    assert session.effects() == []
    assert session.user is None
    assert not session.authorized
    assert session.state is State.OPEN


def test_a_128_character_user_id_signs_in() -> None:
    session = open_session(SIGNIN_APP)

    session.receive_text(signin(session, {"id": "u" * 128}), 1.0)

    assert [type(e) for e in session.effects()] == [SignIn]


def test_signing_in_as_another_user_is_refused_and_keeps_the_first() -> None:
    session = open_session(SIGNIN_APP)
    signed_in(session, {"id": "1"})
    first = session.user

    session.receive_text(signin(session, {"id": "2"}), 1.0)

    assert_sent(session, error(4009, "Connection is already signed in as another user"))
    assert session.effects() == []
    assert session.user is first


def test_signing_in_again_as_the_same_user_succeeds_with_no_change() -> None:
    session = open_session(SIGNIN_APP)
    signed_in(session, {"id": "1", "user_info": {"v": 1}})
    first = session.user
    assert first is not None

    session.receive_text(signin(session, {"id": "1", "user_info": {"v": 2}}), 1.0)

    assert_sent(session, {"event": "pusher:signin_success", "data": {"user_data": first.user_data}})
    assert session.effects() == []
    assert session.user is first


def test_a_watchlist_over_100_ids_keeps_the_first_100_and_warns_after_success() -> None:
    session = open_session(make_app(enable_user_authentication=True, enable_watchlist=True))
    ids = [str(i) for i in range(150)]

    session.receive_text(signin(session, {"id": "u", "watchlist": ids}), 1.0)

    frames = sent(session)
    assert [f["event"] for f in frames] == ["pusher:signin_success", "pusher:error"]
    assert frames[1] == error(
        4302, "Watchlist limit exceeded. Only the first 100 user IDs are accepted."
    )
    [effect] = session.effects()
    assert isinstance(effect, SignIn)
    assert effect.user.watchlist == tuple(ids[:100])


def test_a_long_watchlist_is_not_warned_about_when_watchlists_are_off() -> None:
    session = open_session(SIGNIN_APP)

    session.receive_text(signin(session, {"id": "u", "watchlist": [str(i) for i in range(101)]}), 1)

    assert [f["event"] for f in sent(session)] == ["pusher:signin_success"]


def test_watchlist_entries_that_are_not_ids_are_dropped_and_duplicates_merged() -> None:
    session = open_session(SIGNIN_APP)

    session.receive_text(signin(session, {"id": "u", "watchlist": ["7", 9, True, None, "7"]}), 1)

    [effect] = session.effects()
    assert isinstance(effect, SignIn)
    assert effect.user.watchlist == ("7", "9")


def test_a_watchlist_that_is_not_a_list_is_empty() -> None:
    session = open_session(SIGNIN_APP)

    session.receive_text(signin(session, {"id": "u", "watchlist": "7"}), 1)

    [effect] = session.effects()
    assert isinstance(effect, SignIn)
    assert effect.user.watchlist == ()


# §11 client events


CLIENT_APP = make_app(enable_client_events=True)


def member_of(session: Session, channel: str, member: Member | None = None) -> Session:
    session.subscriptions[channel] = member
    return session


def client(event: str, channel: Any, data: Any = None) -> str:
    return frame(event, {"t": 1} if data is None else data, channel)


@pytest.mark.parametrize(
    ("app", "channel", "subscribed", "event", "data", "code", "message"),
    [
        (
            make_app(),
            "private-a",
            True,
            "client-a",
            {},
            4301,
            "The app does not have client messaging enabled.",
        ),
        (
            CLIENT_APP,
            "private-encrypted-a",
            True,
            "client-a",
            {},
            None,
            "Client events are not supported on encrypted channels",
        ),
        (
            CLIENT_APP,
            "private-encrypted-cache-a",
            True,
            "client-a",
            {},
            None,
            "Client events are not supported on encrypted channels",
        ),
        (
            CLIENT_APP,
            "public",
            True,
            "client-a",
            {},
            None,
            "Client events are only supported on private and presence channels",
        ),
        (
            CLIENT_APP,
            "cache-a",
            True,
            "client-a",
            {},
            None,
            "Client events are only supported on private and presence channels",
        ),
        (
            CLIENT_APP,
            "#server-to-user-1",
            True,
            "client-a",
            {},
            None,
            "Client events are only supported on private and presence channels",
        ),
        (
            CLIENT_APP,
            "private-a",
            False,
            "client-a",
            {},
            None,
            "Cannot broadcast client event (connection not subscribed to channel private-a)",
        ),
        (
            CLIENT_APP,
            "private-a",
            True,
            "client-" + "e" * 194,
            {},
            4301,
            "The event name is longer than the allowed 200 characters.",
        ),
        (
            CLIENT_APP,
            "private-a",
            True,
            "client-a",
            "é" * 5121,
            4301,
            "The event data is larger than the allowed 10240 bytes.",
        ),
        (
            CLIENT_APP,
            "presence-a",
            True,
            "client-a",
            {"k": "x" * 10233},
            4301,
            "The event data is larger than the allowed 10240 bytes.",
        ),
    ],
)
def test_a_refused_client_event_gets_its_exact_error_on_the_channel(
    app: Any, channel: str, subscribed: bool, event: str, data: Any, code: int | None, message: str
) -> None:
    session = open_session(app)
    if subscribed:
        member_of(session, channel)

    session.receive_text(client(event, channel, data), 1.0)

    assert_sent(session, error(code, message, channel))
    assert session.effects() == []
    assert session.state is State.OPEN


def test_an_earlier_rule_decides_when_several_are_broken() -> None:
    session = open_session(make_app())

    session.receive_text(client("client-" + "e" * 300, "public", "x" * 20_000), 1.0)

    [refusal] = sent(session)
    assert refusal["data"]["code"] == 4301
    assert refusal["data"]["message"] == "The app does not have client messaging enabled."


def test_client_event_limits_are_inclusive() -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")

    session.receive_text(client("client-" + "e" * 193, "private-a", "é" * 5120), 1.0)
    session.receive_text(client("client-a", "private-a", {"k": "x" * 10232}), 1.0)

    assert_sent(session)
    assert len(session.effects()) == 2


@pytest.mark.parametrize("data", [{"t": 1}, "plain", '{"t":1}', [1, "2"], 3, None])
def test_an_accepted_client_event_is_relayed_with_data_unchanged(data: Any) -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")

    session.receive_text(frame("client-typing", data, "private-a"), 1.0)

    assert session.effects() == [ClientEvent("private-a", "client-typing", data, None)]
    assert_sent(session)


@pytest.mark.parametrize("raw", ["2", 2])
def test_a_presence_client_event_carries_the_senders_user_id_as_given(raw: Any) -> None:
    member = Member(str(raw), raw, None)
    session = member_of(open_session(CLIENT_APP), "presence-cache-a", member)

    session.receive_text(client("client-a", "presence-cache-a", {}), 1.0)

    assert session.effects() == [ClientEvent("presence-cache-a", "client-a", {}, raw)]


def test_the_eleventh_client_event_in_a_second_is_refused_until_the_second_is_over() -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")

    for _ in range(11):
        session.receive_text(client("client-a", "private-a"), 5.0)
    accepted = len(session.effects())
    refused = sent(session)
    session.receive_text(client("client-a", "private-a"), 5.999)
    still_refused = len(session.effects())
    sent(session)
    session.receive_text(client("client-a", "private-a"), 6.0)
    later = len(session.effects())

    assert accepted == 10
    assert refused == [error(4301, "Client event rejected due to rate limit", "private-a")]
    assert still_refused == 0
    assert later == 1


def test_a_rate_of_zero_refuses_every_client_event() -> None:
    app = make_app(enable_client_events=True, limit_client_events_per_second=0)
    session = member_of(open_session(app), "private-a")

    session.receive_text(client("client-a", "private-a"), 5.0)

    assert session.effects() == []
    assert sent(session) == [error(4301, "Client event rejected due to rate limit", "private-a")]


def test_a_steady_stream_gets_exactly_the_rate_through_in_its_first_second() -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")

    for i in range(40):  # 40 a second, for one second
        session.receive_text(client("client-a", "private-a"), 5.0 + i / 40)

    assert len(session.effects()) == 10
    assert len(sent(session)) == 30


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=12),
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.6), min_size=1, max_size=60),
)
def test_no_one_second_window_ever_holds_more_than_the_rate(rate: int, gaps: list[float]) -> None:
    session = member_of(
        open_session(make_app(enable_client_events=True, limit_client_events_per_second=rate)),
        "private-a",
    )
    now = 10.0
    accepted: list[float] = []
    for gap in gaps:
        now += gap
        recent = [t for t in accepted if t > now - 1.0]
        session.receive_text(client("client-a", "private-a"), now)
        taken = len(session.effects())
        sent(session)
        # Refused exactly when the last second already holds ``rate`` accepted events.
        assert taken == (1 if len(recent) < rate else 0)
        if taken:
            accepted.append(now)
    for start in accepted:
        assert sum(1 for t in accepted if start <= t < start + 1.0) <= rate


def test_every_refused_client_event_gets_its_own_error() -> None:
    session = open_session(CLIENT_APP)

    for _ in range(3):
        session.receive_text(client("client-a", "private-a"), 1.0)

    assert len(sent(session)) == 3


def test_refused_client_events_do_not_use_up_the_rate() -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")

    for _ in range(20):
        session.receive_text(client("client-a", "private-a", "x" * 20_000), 1.0)
    sent(session)
    for _ in range(10):
        session.receive_text(client("client-a", "private-a"), 1.0)

    assert_sent(session)
    assert len(session.effects()) == 10


# Misuse and output


def test_messages_and_effects_are_taken_once() -> None:
    session = Session(make_app(), SOCKET_ID, 0.0)
    session.receive_text('{"event":"pusher:ping"}', 1.0)

    assert len(session.messages_to_send()) == 2
    assert session.messages_to_send() == []
    assert session.effects() == []


def test_frames_queued_by_others_are_sent_in_order() -> None:
    session = open_session()
    session.send('{"event":"a"}')
    session.receive_text('{"event":"pusher:ping"}', 1.0)

    assert [f["event"] for f in sent(session)] == ["a", "pusher:pong"]


# Properties


#: text that may hold lone surrogates, which json.dumps escapes as \\udXXX
TEXT = st.text(
    st.characters(categories=["Cs"]) | st.characters(categories=["L", "N", "P", "Zs"]),
    max_size=6,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
EVENTS = st.sampled_from(
    [
        "pusher:ping",
        "pusher:pong",
        "pusher:subscribe",
        "pusher:unsubscribe",
        "pusher:signin",
        "pusher:error",
        "pusher_internal:member_added",
        "client-a",
        "other",
    ]
)
CHANNELS = (
    st.sampled_from(
        ["private-a", "presence-a", "public", "#server-to-user-u", "private-encrypted-a", ""]
    )
    | TEXT
)
AUTHS = st.sampled_from(
    [
        f"{KEY}:x",
        "x",
        token(KEY, SECRET, f"{SOCKET_ID}:private-a"),
        token(KEY, SECRET, f"{SOCKET_ID}:presence-a"),
        token(KEY, SECRET, f'{SOCKET_ID}:presence-a:{{"user_id":"u"}}'),
    ]
)
#: payloads a real client sends, valid or nearly so
VALID = st.sampled_from(
    [
        {"channel": "public"},
        {"channel": "private-a", "auth": token(KEY, SECRET, f"{SOCKET_ID}:private-a")},
        {
            "channel": "presence-a",
            "auth": token(KEY, SECRET, f'{SOCKET_ID}:presence-a:{{"user_id":"u"}}'),
            "channel_data": '{"user_id":"u"}',
        },
        {"channel": "presence-a", "auth": token(KEY, SECRET, f"{SOCKET_ID}:presence-a")},
        {"channel": "#server-to-user-u"},
        {"auth": token(KEY, SECRET, f'{SOCKET_ID}::user::{{"id":"u"}}'), "user_data": '{"id":"u"}'},
        {"auth": token(KEY, SECRET, f'{SOCKET_ID}::user::{{"id":"v"}}'), "user_data": '{"id":"v"}'},
    ]
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "channel": CHANNELS | JSON,
        "auth": AUTHS | JSON,
        "channel_data": st.sampled_from(['{"user_id":"u"}', '{"user_id":1}']) | JSON,
        "user_data": st.sampled_from(['{"id":"u"}', '{"id":"v"}', "{}"]) | JSON,
    },
)
#: well-formed messages with valid or odd payloads, and envelopes of anything
KNOWN = st.sampled_from(
    ["pusher:subscribe", "pusher:unsubscribe", "pusher:signin", "pusher:ping", "client-a"]
)
MESSAGES = st.fixed_dictionaries(
    {"event": KNOWN, "data": VALID | FIELDS}, optional={"channel": CHANNELS}
) | st.fixed_dictionaries(
    {"event": EVENTS | TEXT | JSON},
    optional={"data": FIELDS | JSON, "channel": CHANNELS | JSON},
)


def fresh() -> Session:
    return open_session(make_app(enable_client_events=True, enable_user_authentication=True))


def signed() -> Session:
    session = fresh()
    signed_in(session, {"id": "u"})
    return session


def in_channels() -> Session:
    session = signed()
    member_of(session, "private-a")
    member_of(session, "presence-a", Member("u", "u", None))
    return session


def closed() -> Session:
    session = fresh()
    session.tick(120.0)
    session.tick(150.0)
    session.messages_to_send()
    session.effects()
    return session


STATES = st.sampled_from([fresh, signed, in_channels, closed])


def check_consistent(session: Session, before: dict[str, Any], was_open: bool) -> None:
    """What any input may change, and what it must leave intact."""
    subscriptions = dict(session.subscriptions)
    frames = [parse_wire(f) for f in session.messages_to_send()]
    effects = session.effects()
    if not was_open:
        assert frames == [] and effects == []
        return
    assert session.state is State.OPEN, "no peer input closes the connection"
    assert subscriptions == before, "only the registry joins and leaves"
    for effect in effects:
        if isinstance(effect, Join):
            assert is_valid_name_characters(effect.channel) and len(effect.channel) <= 200
            assert effect.kind == classify(effect.channel)
            assert effect.kind.type is not ChannelType.SERVER_TO_USER
            assert (effect.member is not None) is effect.kind.is_presence
            if effect.member is not None:
                raw, text = effect.member.raw_user_id, effect.member.user_id
                assert text == raw if isinstance(raw, str) else float(text) == float(raw)
                member = [effect.member.raw_user_id, effect.member.user_info]
                json.dumps(member, allow_nan=False).encode()
        elif isinstance(effect, Leave):
            assert effect.channel in subscriptions
        elif isinstance(effect, ClientEvent):
            assert effect.channel in subscriptions and effect.event.startswith("client-")
            # what the hub relays must be JSON with a UTF-8 form
            json.dumps([effect.event, effect.data], allow_nan=False).encode()
        else:
            assert isinstance(effect, SignIn)
            assert session.user is effect.user and session.authorized
    assert len(effects) <= 1
    assert len(frames) <= 2  # signin_success + 4302 at most
    if session.user is not None:
        assert session.user.id and len(session.user.id) <= 128


@given(st.text())
def test_any_text_never_raises_and_leaves_the_session_open(text: str) -> None:
    session = fresh()

    session.receive_text(text, 1.0)

    check_consistent(session, {}, True)


@given(JSON)
def test_any_json_value_never_raises(value: Any) -> None:
    session = fresh()

    session.receive_text(json.dumps(value), 1.0)

    check_consistent(session, {}, True)


@settings(max_examples=500)
@given(STATES, MESSAGES)
def test_any_message_in_any_state_never_raises_and_keeps_the_session_consistent(
    state: Any, message: dict[str, Any]
) -> None:
    session = state()
    before = dict(session.subscriptions)
    was_open = session.state is State.OPEN
    user = session.user

    session.receive_text(json.dumps(message), 2.0)

    check_consistent(session, before, was_open)
    if user is not None:
        assert session.user is user, "a signed-in connection keeps its user"


@settings(max_examples=300)
@given(JSON, TEXT)
@example(data="\ud800", name="a")
@example(data={"x": [float("nan")]}, name="a")
@example(data=float("inf"), name="\udfff")
def test_any_client_event_data_or_name_is_relayed_as_utf8_json_or_refused(
    data: Any, name: str
) -> None:
    session = in_channels()

    session.receive_text(
        json.dumps({"event": f"client-{name}", "channel": "private-a", "data": data}), 2.0
    )
    session.receive_text(json.dumps({"event": name, "data": data}), 2.0)

    check_consistent(session, in_channels().subscriptions, True)


@given(STATES, st.floats(min_value=0, max_value=1e6))
def test_ticks_close_only_with_the_liveness_or_authorization_codes(state: Any, now: float) -> None:
    session = state()

    session.tick(now)
    session.tick(now + 30.0)

    for effect in session.effects():
        assert effect == SendPing() or (isinstance(effect, Close) and effect.code in (4009, 4201))
    for f in session.messages_to_send():
        parse_wire(f)


@pytest.mark.parametrize("refusal", [Terminated(), ServerShuttingDown()])
def test_closing_sends_the_error_then_the_close_and_stops_input(refusal: Any) -> None:
    session = open_session()

    session.close(refusal)
    session.receive_text('{"event":"pusher:ping"}', 1.0)

    assert_sent(session, error(refusal.code, refusal.message))
    assert session.effects() == [Close(refusal.code, refusal.message)]
    assert session.state is State.CLOSED


# Rule order: for neighbouring rules, break both and the earlier one answers.


@pytest.mark.parametrize(
    ("app", "channel", "subscribed", "event", "data", "message"),
    [
        (
            make_app(),
            "private-encrypted-a",
            True,
            "client-a",
            {},
            "The app does not have client messaging enabled.",
        ),
        (
            CLIENT_APP,
            "public",
            False,
            "client-a",
            {},
            "Client events are only supported on private and presence channels",
        ),
        (
            CLIENT_APP,
            "private-encrypted-a",
            False,
            "client-a",
            {},
            "Client events are not supported on encrypted channels",
        ),
        (
            CLIENT_APP,
            "private-a",
            False,
            "client-" + "e" * 300,
            "x" * 20_000,
            "Cannot broadcast client event (connection not subscribed to channel private-a)",
        ),
        (
            CLIENT_APP,
            "private-a",
            True,
            "client-" + "e" * 300,
            "x" * 20_000,
            "The event name is longer than the allowed 200 characters.",
        ),
    ],
)
def test_the_first_broken_11_2_rule_answers(
    app: Any, channel: str, subscribed: bool, event: str, data: Any, message: str
) -> None:
    session = open_session(app)
    if subscribed:
        member_of(session, channel)

    session.receive_text(client(event, channel, data), 1.0)

    [refusal] = sent(session)
    assert refusal["data"]["message"] == message


def test_oversized_data_is_reported_before_the_rate_limit() -> None:
    session = member_of(open_session(CLIENT_APP), "private-a")
    for _ in range(10):
        session.receive_text(client("client-a", "private-a"), 1.0)

    session.receive_text(client("client-a", "private-a", "x" * 20_000), 1.0)
    session.receive_text(client("client-a", "private-a"), 1.0)

    assert [f["data"]["message"] for f in sent(session)] == [
        "The event data is larger than the allowed 10240 bytes.",
        "Client event rejected due to rate limit",
    ]


@pytest.mark.parametrize(
    ("app", "data", "message"),
    [
        (make_app(), "not an object", "User authentication is not enabled for this app"),
        (
            SIGNIN_APP,
            {"auth": f"{KEY}:{'0' * 64}", "user_data": "[]"},
            "Invalid signature",
        ),
    ],
)
def test_the_first_broken_12_2_cause_answers(app: Any, data: Any, message: str) -> None:
    session = open_session(app)

    session.receive_text(frame("pusher:signin", data), 1.0)

    assert_sent(session, error(4009, message))


def test_an_invalid_user_id_is_reported_before_the_other_user() -> None:
    session = open_session(SIGNIN_APP)
    signed_in(session, {"id": "1"})

    session.receive_text(signin(session, {"id": "a b"}), 1.0)

    assert_sent(session, error(4009, "Invalid user id"))


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        (subscribe("private-é"), "InvalidChannel"),
        (subscribe("presence-é", auth=1, channel_data=1), "InvalidChannel"),
        (subscribe("#server-to-user-a b"), "InvalidChannel"),
        (subscribe("private-" + "é" * 300), "LimitReached"),
    ],
)
def test_the_channel_name_is_checked_before_authorization(text: str, type_: str) -> None:
    session = open_session()

    session.receive_text(text, 1.0)

    [refusal] = sent(session)
    assert refusal["data"]["type"] == type_
