"""Parsing client messages and serializing server messages (PROTOCOL.md §2, §13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pusherd.protocol import messages
from pusherd.protocol.errors import ProtocolViolation
from pusherd.protocol.messages import ClientMessage, parse_json, parse_message
from tests.unit.protocol.support import decode

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def test_the_envelope_fields_are_taken_as_received() -> None:
    text = '{"event":"client-typing","channel":"presence-room","data":{"t":1},"user_id":"x"}'

    assert parse_message(text) == ClientMessage("client-typing", {"t": 1}, "presence-room")


def test_missing_fields_are_none() -> None:
    assert parse_message('{"event":"pusher:ping"}') == ClientMessage("pusher:ping")


def test_paired_surrogate_escapes_decode_to_one_character() -> None:
    message = parse_message('{"event":"client-a","data":"\\ud83d\\ude00"}')

    assert message.data == "\U0001f600"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        "1",
        '{"event":1}',
        '{"data":{}}',
        '{"event":"a","data":NaN}',
        '{"event":"a","data":-Infinity}',
        '{"event":"a","data":[1e999]}',
        '{"event":"a","data":"\\udfff"}',
        '{"event":"a","\\ud800":1}',
        '{"event":"a","data":"\ud800"}',
        "[" * 50_000 + "]" * 50_000,
        '{"event":"a","data":' + "1" * 5000 + "}",
    ],
)
def test_input_that_is_not_a_json_object_with_a_string_event_is_a_violation(text: str) -> None:
    with pytest.raises(ProtocolViolation):
        parse_message(text)


@given(st.text())
def test_parse_message_raises_only_protocol_violation_for_any_text(text: str) -> None:
    try:
        message = parse_message(text)
    except ProtocolViolation:
        return
    assert isinstance(message.event, str)
    messages.dumps([message.event, message.data, message.channel]).encode()


@given(st.text(st.sampled_from('{}[]":,\\udcDC8e0-1.Nna ')))
def test_parse_message_raises_only_protocol_violation_for_json_like_text(text: str) -> None:
    try:
        message = parse_message(text)
    except ProtocolViolation:
        return
    messages.dumps(message.data).encode()


@given(st.text(), JSON, JSON)
def test_any_object_with_a_string_event_round_trips(event: str, data: Any, channel: Any) -> None:
    text = json.dumps({"event": event, "data": data, "channel": channel})

    assert parse_message(text) == ClientMessage(event, data, channel)


def test_embedded_json_that_does_not_parse_is_a_violation() -> None:
    assert parse_json('{"user_id":1}') == {"user_id": 1}
    for text in ("", "{", "NaN", '"\\ud800"'):
        with pytest.raises(ProtocolViolation):
            parse_json(text)


# §2.1: which data is double-encoded


def test_connection_established_data_is_a_json_string() -> None:
    frame = messages.connection_established("1.2", 120)

    assert json.loads(frame) == {
        "event": "pusher:connection_established",
        "data": '{"socket_id":"1.2","activity_timeout":120}',
    }


def test_ping_and_pong_carry_an_empty_object() -> None:
    assert messages.PING == '{"event":"pusher:ping","data":{}}'
    assert messages.PONG == '{"event":"pusher:pong","data":{}}'


def test_presence_subscription_succeeded_double_encodes_the_presence_object() -> None:
    frame = messages.subscription_succeeded(
        "presence-room", {"ids": ["1"], "hash": {"1": None}, "count": 1}
    )

    assert json.loads(frame)["data"] == '{"presence":{"ids":["1"],"hash":{"1":null},"count":1}}'


@pytest.mark.parametrize("data", [{"t": 1}, "plain", '{"t":1}', [1], 0, False])
def test_serialize_event_keeps_data_of_any_type_as_is(data: Any) -> None:
    frame = messages.serialize_event("client-a", data, "private-a")

    assert json.loads(frame) == {"event": "client-a", "channel": "private-a", "data": data}


def test_serialize_event_leaves_out_absent_fields_and_adds_user_id_last() -> None:
    assert messages.serialize_event("pusher:cache_miss", None, "cache-a") == (
        '{"event":"pusher:cache_miss","channel":"cache-a"}'
    )
    assert messages.serialize_event("client-a", {}, "presence-a", 10) == (
        '{"event":"client-a","channel":"presence-a","data":{},"user_id":10}'
    )


@pytest.mark.parametrize(
    ("user_id", "as_json"),
    [("7", '"7"'), ("", '""'), (7, "7"), (7.0, "7"), (-0.0, "0"), (1e21, "1e+21"), (1e-7, "1e-7")],
)
def test_a_relayed_user_id_keeps_its_type_and_is_written_as_json_stringify_does(
    user_id: Any, as_json: str
) -> None:
    assert messages.serialize_event("client-a", {}, "presence-a", user_id) == (
        '{"event":"client-a","channel":"presence-a","data":{},"user_id":' + as_json + "}"
    )
    assert messages.member_removed_data(user_id) == '{"user_id":' + as_json + "}"
    assert messages.member_added_data(user_id, None) == (
        '{"user_id":' + as_json + ',"user_info":null}'
    )


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_a_numeric_user_id_text_is_the_double_javascript_reads(number: float) -> None:
    if not messages.is_user_id_value(number):
        with pytest.raises(OverflowError):
            float(number)
        return
    text = messages.user_id_text(number)

    assert float(text) == float(number)
    assert messages.user_id_json(number) == text
    if float(number).is_integer() and abs(number) < 1e21:
        assert text.lstrip("-").isdigit()


@pytest.mark.parametrize("value", [True, False, None, [1], {"a": 1}, 2**1024])
def test_only_strings_and_numbers_a_double_holds_are_user_ids(value: Any) -> None:
    assert not messages.is_user_id_value(value)


def test_an_api_event_reaches_pusher_js_as_its_parsed_data_or_raw_string() -> None:
    as_json = messages.serialize_event("e", '{"message":"hello"}', "c")
    as_text = messages.serialize_event("e", "plain string", "c")

    assert decode(as_json)["data"] == {"message": "hello"}
    assert decode(as_text)["data"] == "plain string"


def test_non_ascii_text_is_sent_as_utf8_not_escaped() -> None:
    assert messages.dumps({"name": "Zoë"}) == '{"name":"Zoë"}'


@pytest.mark.parametrize(
    ("data", "size"),
    [("é" * 3, 6), ({"a": "é"}, 10), (None, 4), ([1, 2], 5), ("", 0)],
)
def test_json_size_is_utf8_bytes_of_a_string_or_of_compact_json(data: Any, size: int) -> None:
    assert messages.json_size(data) == size


# Nesting depth: refused before the parser recurses (its bound is Python's stack).


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@given(st.integers(min_value=0, max_value=200), st.sampled_from(["[]", "{}"]))
def test_too_deep_is_exactly_more_than_the_limit(depth: int, brackets: str) -> None:
    text = '{"a":' * depth + "1" + "}" * depth if brackets == "{}" else _nested(depth)
    assert messages.too_deep(text) is (depth > messages.MAX_JSON_DEPTH)
    assert messages.too_deep(text.encode()) is (depth > messages.MAX_JSON_DEPTH)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"data": "[" * 500 + '\\"{' * 100, "list": [[["x"]]]})
    assert not messages.too_deep(text)
    assert parse_message('{"event":"client-a","channel":"private-c","data":' + text + "}")


def test_many_shallow_objects_are_not_too_deep() -> None:
    text = json.dumps([{"a": [1]} for _ in range(500)])
    assert not messages.too_deep(text)


@pytest.mark.parametrize("depth", [messages.MAX_JSON_DEPTH + 1, 5_000, 100_000])
def test_deeply_nested_messages_are_protocol_violations(depth: int) -> None:
    with pytest.raises(ProtocolViolation):
        parse_message(_nested(depth))
    with pytest.raises(ProtocolViolation):
        parse_message('{"event":"client-a","channel":"private-c","data":' + _nested(depth) + "}")
    with pytest.raises(ProtocolViolation):
        parse_json('{"a":' * depth + "1" + "}" * depth)
