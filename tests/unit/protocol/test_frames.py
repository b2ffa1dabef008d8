"""Server-to-client WebSocket frames, checked with websockets' own frame parser (RFC 6455 §5.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from pusherd.protocol.frames import encode_text, text_frame


def parse(data: bytes) -> Frame:
    """Parse one frame as a client does (server frames are unmasked), consuming every byte."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        assert not reader.buffer, "bytes left after the frame"
        frame: Frame = done.value
        return frame
    raise AssertionError("the frame is incomplete")


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_every_length_encoding_parses_back(length: int) -> None:
    payload = b"x" * length

    frame = parse(encode_text(payload))

    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)


@pytest.mark.parametrize(("length", "header"), [(125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_the_shortest_length_form_is_used(length: int, header: int) -> None:
    assert len(encode_text(b"x" * length)) == length + header


@given(st.text())
def test_any_message_round_trips_as_utf8_text(message: str) -> None:
    frame = parse(text_frame(message))

    assert frame.opcode is Opcode.TEXT
    assert bytes(frame.data).decode() == message
