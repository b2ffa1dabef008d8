"""Envelopes survive msgpack, in the shape the Lua scripts pack them too."""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pusherd.backplane.codec import Envelope, EnvelopeError, Kind, decode, encode

envelopes = st.builds(
    Envelope,
    st.sampled_from(Kind),
    st.text(),
    st.text(),
    st.text(),
    st.text(),
    st.text(),
    st.text(),
    st.text(),
    st.integers(0, 2**53),
)


@given(envelopes)
def test_an_envelope_round_trips(envelope: Envelope) -> None:
    assert decode(encode(envelope)) == envelope


def test_encode_stamps_the_origin() -> None:
    envelope = Envelope(Kind.CHANNEL, "1", "news", "{}")
    assert decode(encode(envelope, "node-a")).origin == "node-a"


def test_an_envelope_packed_as_the_scripts_pack_it_is_read() -> None:
    # cmsgpack.pack({1, 'a', origin, app, channel, message, exclude, '', ''})
    packed = msgpack.packb([1, "a", "", "1", "presence-room", "{}", "9.9", "", ""])
    assert decode(packed) == Envelope(Kind.MEMBER_ADDED, "1", "presence-room", "{}", "9.9")


def test_a_member_envelope_carries_its_serial() -> None:
    packed = msgpack.packb([1, "r", "", "1", "presence-room", "{}", "", "", "", "12"])
    assert decode(packed).serial == 12


def test_a_short_envelope_gets_empty_fields() -> None:
    assert decode(msgpack.packb([1, "t", "n", "1", "ann", ""])) == Envelope(
        Kind.TERMINATE, "1", "ann", origin="n"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\xc1",
        msgpack.packb({"not": "a list"}),
        msgpack.packb([2, "c", "", "1", "x", ""]),
        msgpack.packb([1, "c", "", "1", "x"]),
        msgpack.packb([1, "z", "", "1", "x", ""]),
        msgpack.packb([1, "c", "", 1, "x", ""]),
        msgpack.packb([1, "c", "", "1", "x", ""]) + b"\x00",
        msgpack.packb([1, "a", "", "1", "x", "", "", "", "", "-1"]),
    ],
)
def test_anything_else_is_an_envelope_error(data: bytes) -> None:
    with pytest.raises(EnvelopeError):
        decode(data)


@given(st.binary())
def test_decode_raises_only_envelope_errors(data: bytes) -> None:
    with contextlib.suppress(EnvelopeError):
        decode(data)
