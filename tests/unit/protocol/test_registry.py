"""ChannelRegistry: joining, leaving, presence, cache and counts (PROTOCOL.md §7.2-§7.5, §8-§10)."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from client_auth.signatures import token
from pusherd.protocol.channels import classify
from pusherd.protocol.registry import ChannelRegistry, Outcome
from pusherd.protocol.session import Close, Member, Session
from tests.unit.protocol.support import (
    Node,
    assert_sent,
    decode,
    make_app,
    open_session,
    presence_subscribe,
    private_subscribe,
    sent,
    subscribe,
    subscription_error,
    succeeded,
    unsubscribe,
)


def join(
    registry: ChannelRegistry, session: Session, name: str, user: Any = None, now: float = 0.0
) -> Outcome:
    member = None if user is None else Member(str(user), user, {"name": f"user {user}"})
    return registry.join(session, name, classify(name), member, now)


def broadcasts(outcome: Outcome) -> list[tuple[dict[str, Any], Session | None]]:
    return [(decode(b.message), b.exclude) for b in outcome.broadcasts]


# §7.2 joining


def test_the_first_subscriber_occupies_the_channel_and_gets_subscription_succeeded() -> None:
    registry = ChannelRegistry(make_app())
    session = open_session()

    outcome = join(registry, session, "my-channel")

    assert_sent(session, succeeded("my-channel"))
    assert outcome.joined
    assert outcome.broadcasts == []
    assert outcome.webhooks == [{"name": "channel_occupied", "channel": "my-channel"}]
    assert session.subscriptions == {"my-channel": None}
    assert list(registry.subscribers("my-channel")) == [session]


def test_subscription_succeeded_data_is_the_string_empty_object() -> None:
    registry = ChannelRegistry(make_app())
    session = open_session()

    join(registry, session, "my-channel")

    [message] = session.messages_to_send()
    assert message == (
        '{"event":"pusher_internal:subscription_succeeded","channel":"my-channel","data":"{}"}'
    )


def test_a_second_subscriber_raises_no_occupied_webhook() -> None:
    registry = ChannelRegistry(make_app())
    join(registry, open_session(), "my-channel")

    outcome = join(registry, open_session(socket_id="2.2"), "my-channel")

    assert outcome.joined and outcome.webhooks == [] and outcome.broadcasts == []
    assert len(registry.subscribers("my-channel")) == 2


def test_subscribing_again_only_repeats_subscription_succeeded() -> None:
    registry = ChannelRegistry(make_app(enable_subscription_count=True))
    session = open_session()
    join(registry, session, "cache-a")
    sent(session)

    outcome = join(registry, session, "cache-a")

    assert_sent(session, succeeded("cache-a"))
    assert outcome == Outcome()
    assert len(registry.subscribers("cache-a")) == 1


def test_private_and_presence_joins_authorize_the_connection_and_public_ones_do_not() -> None:
    registry = ChannelRegistry(make_app())
    public, private, presence = (open_session(socket_id=f"{i}.1") for i in range(3))

    join(registry, public, "cache-a")
    join(registry, private, "private-encrypted-a")
    join(registry, presence, "presence-a", "1")

    assert (public.authorized, private.authorized, presence.authorized) == (False, True, True)


def test_an_unoccupied_channel_has_no_subscribers() -> None:
    registry = ChannelRegistry(make_app())

    assert list(registry.subscribers("nobody")) == []
    assert list(registry) == []


# §7.5 leaving


def test_the_last_subscriber_leaving_vacates_the_channel() -> None:
    registry = ChannelRegistry(make_app())
    session = open_session()
    join(registry, session, "my-channel")

    outcome = registry.leave(session, "my-channel", 1.0)

    assert outcome.webhooks == [{"name": "channel_vacated", "channel": "my-channel"}]
    assert outcome.broadcasts == []
    assert session.subscriptions == {}
    assert list(registry) == []


def test_leaving_a_channel_not_joined_changes_nothing() -> None:
    registry = ChannelRegistry(make_app())
    session, other = open_session(), open_session(socket_id="2.2")
    join(registry, other, "my-channel")

    assert registry.leave(session, "my-channel", 1.0) == Outcome()
    assert registry.leave(session, "elsewhere", 1.0) == Outcome()
    assert list(registry.subscribers("my-channel")) == [other]


def test_leave_all_leaves_every_channel_of_a_closed_connection() -> None:
    registry = ChannelRegistry(make_app())
    session, other = open_session(), open_session(socket_id="2.2")
    join(registry, session, "a")
    join(registry, session, "presence-b", "1")
    join(registry, other, "presence-b", "2")

    outcome = registry.leave_all(session, 1.0)

    assert session.subscriptions == {}
    assert outcome.webhooks == [
        {"name": "channel_vacated", "channel": "a"},
        {"name": "member_removed", "channel": "presence-b", "user_id": "1"},
    ]
    assert [message for message, _ in broadcasts(outcome)] == [
        {
            "event": "pusher_internal:member_removed",
            "channel": "presence-b",
            "data": {"user_id": "1"},
        }
    ]
    assert [c.name for c in registry] == ["presence-b"]


# §8 presence


def test_a_presence_join_lists_every_member_including_the_new_one() -> None:
    registry = ChannelRegistry(make_app())
    first, second = open_session(), open_session(socket_id="2.2")
    join(registry, first, "presence-room", "u1")

    join(registry, second, "presence-room", 2)

    assert_sent(
        second,
        succeeded(
            "presence-room",
            {
                "presence": {
                    "ids": ["u1", "2"],
                    "hash": {"u1": {"name": "user u1"}, "2": {"name": "user 2"}},
                    "count": 2,
                }
            },
        ),
    )


def test_a_new_member_is_announced_to_the_others_with_its_user_id_as_given() -> None:
    registry = ChannelRegistry(make_app())
    join(registry, open_session(), "presence-room", "1")
    second = open_session(socket_id="2.2")

    outcome = join(registry, second, "presence-room", 2)

    assert broadcasts(outcome) == [
        (
            {
                "event": "pusher_internal:member_added",
                "channel": "presence-room",
                "data": {"user_id": 2, "user_info": {"name": "user 2"}},
            },
            second,
        )
    ]
    assert outcome.webhooks == [
        {"name": "member_added", "channel": "presence-room", "user_id": "2"}
    ]


def test_a_users_second_connection_is_not_announced_and_counts_once() -> None:
    registry = ChannelRegistry(make_app())
    join(registry, open_session(), "presence-room", "1")
    tab = open_session(socket_id="2.2")

    outcome = registry.join(
        tab, "presence-room", classify("presence-room"), Member("1", "1", {"other": 1}), 0.0
    )

    assert outcome.broadcasts == [] and outcome.webhooks == []
    [frame] = sent(tab)
    assert frame["data"]["presence"] == {
        "ids": ["1"],
        "hash": {"1": {"name": "user 1"}},
        "count": 1,
    }


def test_a_member_leaves_only_with_its_last_connection() -> None:
    registry = ChannelRegistry(make_app())
    tab1, tab2, other = (open_session(socket_id=f"{i}.1") for i in range(3))
    join(registry, tab1, "presence-room", "1")
    join(registry, tab2, "presence-room", "1")
    join(registry, other, "presence-room", "2")

    first = registry.leave(tab1, "presence-room", 1.0)
    last = registry.leave(tab2, "presence-room", 1.0)

    assert first == Outcome()
    assert broadcasts(last) == [
        (
            {
                "event": "pusher_internal:member_removed",
                "channel": "presence-room",
                "data": {"user_id": "1"},
            },
            None,
        )
    ]
    assert last.webhooks == [{"name": "member_removed", "channel": "presence-room", "user_id": "1"}]


def test_a_members_info_comes_from_its_earliest_open_connection() -> None:
    registry = ChannelRegistry(make_app())
    tab1, tab2, viewer = (open_session(socket_id=f"{i}.1") for i in range(3))
    kind = classify("presence-room")
    registry.join(tab1, "presence-room", kind, Member("1", "1", "first"), 0.0)
    registry.join(tab2, "presence-room", kind, Member("1", "1", "second"), 0.0)
    registry.leave(tab1, "presence-room", 1.0)

    registry.join(viewer, "presence-room", kind, Member("2", "2", None), 2.0)

    [frame] = sent(viewer)
    assert frame["data"]["presence"]["hash"] == {"1": "second", "2": None}


def test_a_new_user_over_the_member_limit_is_refused_and_changes_nothing() -> None:
    registry = ChannelRegistry(make_app(limit_presence_members=2))
    one, two, tab, three = (open_session(socket_id=f"{i}.1") for i in range(4))
    join(registry, one, "presence-room", "1")
    join(registry, two, "presence-room", "2")

    refused = join(registry, three, "presence-room", "3")
    allowed = join(registry, tab, "presence-room", "1")

    assert_sent(
        three,
        subscription_error(
            "presence-room",
            "LimitReached",
            "The maximum members per presence channel limit was reached",
            4100,
        ),
    )
    assert refused == Outcome()
    assert three.subscriptions == {}
    assert allowed.joined
    assert len(registry.subscribers("presence-room")) == 3


def limit_error(message: str, status: int) -> dict[str, Any]:
    return subscription_error("presence-a", "LimitReached", message, status)


def test_a_presence_user_id_over_128_characters_is_refused() -> None:
    node = Node()
    session = node.connect()

    node.receive(session, presence_subscribe(session, "presence-a", "u" * 129))

    assert_sent(
        session, limit_error("The user id is longer than the allowed 128 characters.", 4009)
    )
    assert list(node.registry) == []
    assert not session.authorized


def test_a_user_info_over_1_kb_is_refused_and_1_kb_is_accepted() -> None:
    node = Node()
    fits, over = node.connect(), node.connect()
    exact = "x" * (1024 - 2)  # a JSON string: two quotes

    node.receive(fits, presence_subscribe(fits, "presence-a", "1", exact))
    node.receive(over, presence_subscribe(over, "presence-a", "2", exact + "x"))

    assert [f["event"] for f in sent(fits)] == ["pusher_internal:subscription_succeeded"]
    assert_sent(over, limit_error("The maximum size for a channel member is 1 KB.", 4301))
    assert list(node.registry.subscribers("presence-a")) == [fits]


def test_the_user_info_limit_text_names_bytes_when_not_whole_kilobytes() -> None:
    node = Node(make_app(limit_user_info_bytes=1000))
    session = node.connect()

    node.receive(session, presence_subscribe(session, "presence-a", "1", "x" * 999))

    [refusal] = sent(session)
    assert refusal["data"]["error"] == "The maximum size for a channel member is 1000 bytes."


def test_presence_limits_are_checked_in_7_2_order_member_count_first() -> None:
    node = Node(make_app(limit_presence_members=1))
    first, second, third = node.connect(), node.connect(), node.connect()
    node.receive(first, presence_subscribe(first, "presence-a", "1"))

    node.receive(second, presence_subscribe(second, "presence-a", "u" * 129, "x" * 2000))
    node.receive(third, presence_subscribe(third, "presence-a", "1", "x" * 2000))

    assert_sent(
        second,
        limit_error("The maximum members per presence channel limit was reached", 4100),
    )
    assert_sent(third, limit_error("The maximum size for a channel member is 1 KB.", 4301))


def test_a_long_user_id_is_reported_before_a_large_user_info() -> None:
    node = Node()
    session = node.connect()

    node.receive(session, presence_subscribe(session, "presence-a", "u" * 129, "x" * 2000))

    [refusal] = sent(session)
    assert refusal["data"]["error"] == "The user id is longer than the allowed 128 characters."


# §9.2 cache channels


def test_a_cache_channel_without_a_cached_event_sends_cache_miss_after_succeeded() -> None:
    registry = ChannelRegistry(make_app())
    session = open_session()

    outcome = join(registry, session, "private-cache-a")

    [succeeded_frame, miss] = session.messages_to_send()
    assert decode(succeeded_frame) == succeeded("private-cache-a")
    assert miss == '{"event":"pusher:cache_miss","channel":"private-cache-a"}'
    assert outcome.webhooks == [
        {"name": "channel_occupied", "channel": "private-cache-a"},
        {"name": "cache_miss", "channel": "private-cache-a"},
    ]


def test_a_cached_event_is_sent_after_succeeded_in_the_delivery_shape() -> None:
    registry = ChannelRegistry(make_app())
    registry.remember("cache-location", "moved", '{"x":1}', 0.0)
    registry.remember("cache-location", "moved", '{"x":2}', 5.0)
    session = open_session()

    outcome = join(registry, session, "cache-location", now=10.0)

    [_, cached] = session.messages_to_send()
    assert cached == '{"event":"moved","channel":"cache-location","data":"{\\"x\\":2}"}'
    assert outcome.webhooks == [{"name": "channel_occupied", "channel": "cache-location"}]


def test_a_cached_event_expires_after_the_ttl() -> None:
    registry = ChannelRegistry(make_app(cache_ttl=60.0))
    registry.remember("cache-a", "e", "d", 0.0)

    assert registry.cached("cache-a", 59.9) is not None
    assert registry.cached("cache-a", 60.0) is None
    assert registry.cached("cache-a", 1.0) is None  # forgotten, not just hidden


def test_an_event_cached_elsewhere_keeps_only_the_time_it_has_left() -> None:
    registry = ChannelRegistry(make_app(cache_ttl=60.0))
    registry.remember("cache-a", "e", "d", 100.0, ttl=5.0)

    assert registry.cached("cache-a", 104.9) is not None
    assert registry.cached("cache-a", 105.0) is None


def test_expire_forgets_only_expired_events() -> None:
    registry = ChannelRegistry(make_app(cache_ttl=60.0))
    registry.remember("cache-old", "e", "d", 0.0)
    registry.remember("cache-new", "e", "d", 30.0)

    registry.expire(60.0)

    assert list(registry.cache) == ["cache-new"]


def test_a_non_cache_channel_sends_no_cached_event() -> None:
    registry = ChannelRegistry(make_app())
    registry.remember("a", "e", "d", 0.0)
    session = open_session()

    join(registry, session, "a")

    assert_sent(session, succeeded("a"))


# §10 subscription counts


def count_frame(channel: str, n: int) -> dict[str, Any]:
    return {
        "event": "pusher_internal:subscription_count",
        "channel": channel,
        "data": {"subscription_count": n},
    }


def test_counts_are_not_sent_unless_the_app_enables_them() -> None:
    registry = ChannelRegistry(make_app())

    outcome = join(registry, open_session(), "a")

    assert outcome.broadcasts == []


def test_each_subscribe_and_unsubscribe_broadcasts_the_new_count() -> None:
    registry = ChannelRegistry(make_app(enable_subscription_count=True))
    first, second = open_session(), open_session(socket_id="2.2")

    one = join(registry, first, "a")
    two = join(registry, second, "a")
    left = registry.leave(first, "a", 1.0)

    assert broadcasts(one) == [(count_frame("a", 1), None)]
    assert broadcasts(two) == [(count_frame("a", 2), None)]
    assert broadcasts(left) == [(count_frame("a", 1), None)]
    assert two.webhooks == [{"name": "subscription_count", "channel": "a", "subscription_count": 2}]
    assert one.broadcasts[0].message == (
        '{"event":"pusher_internal:subscription_count","channel":"a",'
        '"data":"{\\"subscription_count\\":1}"}'
    )


def test_presence_channels_get_no_counts() -> None:
    registry = ChannelRegistry(make_app(enable_subscription_count=True))

    outcome = join(registry, open_session(), "presence-a", "1")

    assert [m["event"] for m, _ in broadcasts(outcome)] == ["pusher_internal:member_added"]
    assert [w["name"] for w in outcome.webhooks] == ["channel_occupied", "member_added"]


def test_counts_of_channels_over_100_are_held_back_for_5_seconds() -> None:
    registry = ChannelRegistry(make_app(enable_subscription_count=True))
    sessions = [open_session(socket_id=f"{i}.1") for i in range(102)]
    for session in sessions[:101]:
        join(registry, session, "big", now=0.0)

    held = join(registry, sessions[101], "big", now=1.0)
    early = registry.flush_counts(4.9)
    flushed = registry.flush_counts(5.0)
    again = registry.flush_counts(20.0)

    assert held.broadcasts == [] and held.webhooks == []
    assert early == Outcome()
    assert broadcasts(flushed) == [(count_frame("big", 102), None)]
    assert again == Outcome()


# The registry's invariants under any sequence of joins, leaves and disconnects

USERS = ["1", "2", "3"]
CHANNELS = ["public", "cache-a", "private-a", "presence-a", "presence-cache-b"]


class RegistryMachine(RuleBasedStateMachine):
    """Several sessions join and leave public and presence channels, and disconnect."""

    def __init__(self) -> None:
        super().__init__()
        self.node = Node(make_app(limit_presence_members=2, enable_subscription_count=True))
        self.sessions = [self.node.connect() for _ in range(4)]
        #: channel -> session -> user id (None off presence): the model
        self.model: dict[str, dict[Session, str | None]] = {}

    def users_in(self, channel: str) -> set[str]:
        return {u for u in self.model.get(channel, {}).values() if u is not None}

    @rule(i=st.integers(0, 3), channel=st.sampled_from(CHANNELS), user=st.sampled_from(USERS))
    def join(self, i: int, channel: str, user: str) -> None:
        session = self.sessions[i]
        presence = channel.startswith("presence-")
        members = self.model.setdefault(channel, {})
        already = session in members
        new_user = presence and user not in self.users_in(channel)
        refused = not already and new_user and len(self.users_in(channel)) >= 2
        member = Member(user, user, {"u": user}) if presence else None

        outcome = self.node.registry.join(session, channel, classify(channel), member, 0.0)
        self.node.deliver(outcome)

        added = [b for b in outcome.broadcasts if "member_added" in b.message]
        assert len(added) == (1 if new_user and not already and not refused else 0)
        assert outcome.joined == (not already and not refused)
        if outcome.joined:
            members[session] = user if presence else None
        elif not members:
            del self.model[channel]

    @rule(i=st.integers(0, 3), channel=st.sampled_from(CHANNELS))
    def leave(self, i: int, channel: str) -> None:
        session = self.sessions[i]
        outcome = self.node.registry.leave(session, channel, 0.0)
        self.node.deliver(outcome)
        self.forget(session, channel, outcome)

    @rule(i=st.integers(0, 3))
    def disconnect(self, i: int) -> None:
        session = self.sessions[i]
        channels = [c for c, members in self.model.items() if session in members]
        outcome = self.node.registry.leave_all(session, 0.0)
        removed = [b for b in outcome.broadcasts if "member_removed" in b.message]
        expected = 0
        for channel in channels:
            user = self.model[channel].pop(session)
            if user is not None and user not in self.users_in(channel):
                expected += 1
            if not self.model[channel]:
                del self.model[channel]
        assert len(removed) == expected
        self.sessions[i] = self.node.connect()

    def forget(self, session: Session, channel: str, outcome: Outcome) -> None:
        removed = [b for b in outcome.broadcasts if "member_removed" in b.message]
        members = self.model.get(channel, {})
        if session not in members:
            assert outcome == Outcome()
            return
        user = members.pop(session)
        last = user is not None and user not in self.users_in(channel)
        assert len(removed) == (1 if last else 0)
        vacated = {"name": "channel_vacated", "channel": channel} in outcome.webhooks
        assert vacated == (not members)
        if not members:
            del self.model[channel]

    @invariant()
    def no_channel_is_left_empty(self) -> None:
        assert all(channel.subscribers for channel in self.node.registry)

    @invariant()
    def subscribers_are_the_models(self) -> None:
        registry = self.node.registry
        assert {c.name: set(c.subscribers) for c in registry} == {
            name: set(members) for name, members in self.model.items()
        }

    @invariant()
    def presence_members_are_the_distinct_user_ids(self) -> None:
        for channel in self.node.registry:
            if channel.kind.is_presence:
                assert set(channel.members) == self.users_in(channel.name)
                assert channel.presence()["count"] == len(self.users_in(channel.name))
                connections = sum(len(c) for c in channel.members.values())
                assert connections == len(channel.subscribers)
            else:
                assert channel.members == {}

    @invariant()
    def each_sessions_subscriptions_mirror_the_registry(self) -> None:
        for session in self.sessions:
            expected = {c.name for c in self.node.registry if session in c.subscribers}
            assert set(session.subscriptions) == expected
            for name, member in session.subscriptions.items():
                if name.startswith("presence-"):
                    assert member is not None
                    assert (
                        self.node.registry.channels[name].members[member.user_id][session] == member
                    )
                else:
                    assert member is None

    @invariant()
    def every_frame_sent_is_well_formed(self) -> None:
        for session in self.sessions:
            for frame in sent(session):  # decoding checks §2.1's table
                assert frame["event"] != "pusher:error"


TestRegistryMachine = RegistryMachine.TestCase
TestRegistryMachine.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)


# Sessions and the registry together, as the hub drives them


def test_member_added_reaches_others_only_and_the_joiner_sees_everyone() -> None:
    node = Node()
    ann, bob = node.connect(), node.connect()
    node.receive(ann, presence_subscribe(ann, "presence-room", "1", {"name": "Ann"}))
    sent(ann)

    node.receive(bob, presence_subscribe(bob, "presence-room", "2", {"name": "Bob"}))

    assert_sent(
        ann,
        {
            "event": "pusher_internal:member_added",
            "channel": "presence-room",
            "data": {"user_id": "2", "user_info": {"name": "Bob"}},
        },
    )
    assert_sent(
        bob,
        succeeded(
            "presence-room",
            {
                "presence": {
                    "ids": ["1", "2"],
                    "hash": {"1": {"name": "Ann"}, "2": {"name": "Bob"}},
                    "count": 2,
                }
            },
        ),
    )


def test_resubscribing_to_presence_repeats_the_current_member_list_only() -> None:
    node = Node()
    ann, bob = node.connect(), node.connect()
    node.receive(ann, presence_subscribe(ann, "presence-room", "1"))
    node.receive(bob, presence_subscribe(bob, "presence-room", "2"))
    sent(ann)
    sent(bob)
    node.take_webhooks()

    node.receive(ann, presence_subscribe(ann, "presence-room", "1"))

    [again] = sent(ann)
    assert again["data"]["presence"]["ids"] == ["1", "2"]
    assert_sent(bob)
    assert node.take_webhooks() == []


def test_resubscribing_with_a_bad_token_changes_nothing_and_tells_nobody() -> None:
    node = Node()
    ann, bob = node.connect(), node.connect()
    node.receive(ann, presence_subscribe(ann, "presence-room", "1", "Ann"))
    node.receive(bob, presence_subscribe(bob, "presence-room", "2", "Bob"))
    node.receive(ann, private_subscribe(ann, "private-a"))
    sent(ann)
    sent(bob)
    node.take_webhooks()
    forged = {"auth": f"{ann.app.key}:{'0' * 64}", "channel_data": '{"user_id":"3"}'}

    node.receive(ann, subscribe("presence-room", **forged))
    node.receive(ann, subscribe("private-a", **forged))

    presence = {"ids": ["1", "2"], "hash": {"1": "Ann", "2": "Bob"}, "count": 2}
    assert_sent(ann, succeeded("presence-room", {"presence": presence}), succeeded("private-a"))
    assert_sent(bob)
    assert node.take_webhooks() == []
    assert ann.subscriptions["presence-room"] == Member("1", "1", "Ann")


def signed_presence(session: Session, channel: str, channel_data: str) -> str:
    auth = token(
        session.app.key, str(session.app.secret), f"{session.socket_id}:{channel}:{channel_data}"
    )
    return subscribe(channel, auth=auth, channel_data=channel_data)


def test_a_float_user_id_reaches_every_frame_and_webhook_as_json_stringify_writes_it() -> None:
    # json.dumps in a Python auth endpoint writes 7.0; pusher-js, given "7.0", keys it "7".
    node = Node()
    ann, bob = node.connect(), node.connect()
    node.receive(bob, presence_subscribe(bob, "presence-room", "2"))
    sent(bob)
    node.take_webhooks()

    node.receive(ann, signed_presence(ann, "presence-room", '{"user_id":7.0,"user_info":1.5}'))
    node.disconnect(ann)

    frames = bob.messages_to_send()
    assert frames == [
        '{"event":"pusher_internal:member_added","channel":"presence-room",'
        '"data":"{\\"user_id\\":7,\\"user_info\\":1.5}"}',
        '{"event":"pusher_internal:member_removed","channel":"presence-room",'
        '"data":"{\\"user_id\\":7}"}',
    ]
    [joined] = sent(ann)
    assert joined["data"]["presence"] == {
        "ids": ["2", "7"],
        "hash": {"2": None, "7": 1.5},
        "count": 2,
    }
    assert [w.get("user_id") for w in node.take_webhooks()] == ["7", "7"]


def test_a_float_and_an_int_of_one_value_are_one_member() -> None:
    node = Node()
    tab1, tab2 = node.connect(), node.connect()

    node.receive(tab1, signed_presence(tab1, "presence-room", '{"user_id":7}'))
    sent(tab1)
    node.receive(tab2, signed_presence(tab2, "presence-room", '{"user_id":7.0}'))

    [second] = sent(tab2)
    assert second["data"]["presence"]["ids"] == ["7"]
    assert_sent(tab1)
    assert [w["name"] for w in node.take_webhooks()] == ["channel_occupied", "member_added"]


def test_an_empty_user_id_is_a_member_like_any_other() -> None:
    node = Node()
    ann, bob = node.connect(), node.connect()
    node.receive(ann, presence_subscribe(ann, "presence-room", "", {"name": "Nobody"}))
    sent(ann)
    node.take_webhooks()

    node.receive(bob, presence_subscribe(bob, "presence-room", "2"))
    node.disconnect(ann)

    presence = {"ids": ["", "2"], "hash": {"": {"name": "Nobody"}, "2": None}, "count": 2}
    assert sent(bob) == [
        succeeded("presence-room", {"presence": presence}),
        {
            "event": "pusher_internal:member_removed",
            "channel": "presence-room",
            "data": {"user_id": ""},
        },
    ]
    assert [(w["name"], w.get("user_id")) for w in node.take_webhooks()] == [
        ("member_added", "2"),
        ("member_removed", ""),
    ]


def test_a_closed_connection_leaves_its_channels_and_members_see_it_go() -> None:
    node = Node(make_app(enable_client_events=True))
    ann, bob = node.connect(), node.connect()
    node.receive(ann, presence_subscribe(ann, "presence-room", "1"))
    node.receive(bob, presence_subscribe(bob, "presence-room", "2"))
    node.receive(ann, private_subscribe(ann, "private-a"))
    sent(bob)
    node.take_webhooks()

    node.tick(ann, 120.0)
    node.tick(ann, 150.0)

    assert [type(e) for _, e in node.closed] == [Close]
    assert_sent(
        bob,
        {
            "event": "pusher_internal:member_removed",
            "channel": "presence-room",
            "data": {"user_id": "1"},
        },
    )
    assert node.take_webhooks() == [
        {"name": "member_removed", "channel": "presence-room", "user_id": "1"},
        {"name": "channel_vacated", "channel": "private-a"},
    ]
    assert node.pings == [ann]


def test_a_joined_connection_relays_client_events_and_unsubscribing_stops_them() -> None:
    node = Node(make_app(enable_client_events=True))
    ann = node.connect()
    node.receive(ann, private_subscribe(ann, "private-a"))

    node.receive(ann, '{"event":"client-a","channel":"private-a","data":{"t":1}}')
    node.receive(ann, unsubscribe("private-a"))
    node.receive(ann, '{"event":"client-a","channel":"private-a","data":{"t":2}}')

    assert [e.data for e in node.client_events] == [{"t": 1}]
    assert ann.subscriptions == {}
    assert [f["event"] for f in sent(ann)] == [
        "pusher_internal:subscription_succeeded",
        "pusher:error",
    ]
