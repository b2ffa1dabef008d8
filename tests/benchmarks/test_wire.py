import json

import pytest

from benchmarks import wire
from benchmarks.api import signed_request
from benchmarks.target import Target
from client_auth.api import body_md5, string_to_sign
from client_auth.signatures import sign


def server_frame(event, channel, data):
    """Serialise an event as a server does: ``data`` as a JSON string inside the frame."""
    return json.dumps({"event": event, "channel": channel, "data": data})


def test_timed_data_survives_a_server_frame_as_text_and_as_bytes():
    data = wire.timed_data(41, 1_700_000_000_123_456_789)
    frame = server_frame("bench", "bench-0", data)
    assert wire.parse_timing(frame) == (41, 1_700_000_000_123_456_789)
    assert wire.parse_timing(frame.encode()) == (41, 1_700_000_000_123_456_789)


def test_timed_data_is_json_with_optional_padding():
    assert json.loads(wire.timed_data(3, 99)) == {"seq": 3, "t": 99}
    assert json.loads(wire.timed_data(3, 99, padding=5)) == {"seq": 3, "t": 99, "pad": "xxxxx"}
    assert wire.parse_timing(server_frame("e", "c", wire.timed_data(3, 99, padding=50))) == (3, 99)


def test_client_event_data_sent_as_an_object_is_timed_too():
    frame = wire.client_event("private-x", "client-ping", wire.timed_data(7, 8))
    assert json.loads(frame) == {
        "event": "client-ping",
        "channel": "private-x",
        "data": {"seq": 7, "t": 8},
    }
    assert wire.parse_timing(frame) == (7, 8)


def test_protocol_frames_are_not_mistaken_for_timed_events():
    established = server_frame(
        "pusher:connection_established",
        None,
        json.dumps({"socket_id": "1.2", "activity_timeout": 120}),
    )
    assert wire.parse_timing(established) is None
    assert wire.parse_frame(established) == (
        "pusher:connection_established",
        None,
        {"socket_id": "1.2", "activity_timeout": 120},
    )


def test_parse_frame_keeps_undecodable_string_data():
    assert wire.parse_frame('{"event":"e","data":"not json"}') == ("e", None, "not json")


@pytest.mark.parametrize("text", ["[1]", '{"data":1}', '{"event":3}'])
def test_parse_frame_refuses_non_events(text):
    with pytest.raises(ValueError, match="not a Pusher frame"):
        wire.parse_frame(text)


def test_subscribe_carries_auth_only_when_given():
    assert json.loads(wire.subscribe("bench")) == {
        "event": "pusher:subscribe",
        "data": {"channel": "bench"},
    }
    assert json.loads(wire.subscribe("private-a", auth="k:sig"))["data"] == {
        "channel": "private-a",
        "auth": "k:sig",
    }


def test_trigger_body_names_every_channel():
    body = json.loads(wire.trigger_body(["a", "b"], "bench", '{"seq":1}'))
    assert body == {"name": "bench", "channels": ["a", "b"], "data": '{"seq":1}'}


def test_signed_request_carries_a_signature_a_server_can_verify():
    target = Target(app_id="55", key="the-key", secret="the-secret")
    body = wire.trigger_body(["bench"], "bench", wire.timed_data(0, 1))
    raw = signed_request(target, target.events_path, body, timestamp=1_700_000_000)
    head, _, sent_body = raw.partition(b"\r\n\r\n")
    request_line, *headers = head.decode().split("\r\n")
    method, url, version = request_line.split(" ")
    path, _, query = url.partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert (method, path, version) == ("POST", "/apps/55/events", "HTTP/1.1")
    assert sent_body == body
    assert f"Content-Length: {len(body)}" in headers
    assert params["auth_key"] == "the-key"
    assert params["auth_timestamp"] == "1700000000"
    assert params["auth_version"] == "1.0"
    assert params["body_md5"] == body_md5(body)
    assert params["auth_signature"] == sign("the-secret", string_to_sign("POST", path, params))
