"""A closed connection's websockets protocol is freed by reference counting alone."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.protocol import SERVER
from websockets.protocol import Protocol as WebSocketProtocol

from pusherd.server import release


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def masked(frame: Frame) -> bytes:
    return frame.serialize(mask=True)


@pytest.mark.usefixtures("no_cyclic_gc")
def test_a_connection_lost_without_a_closing_handshake() -> None:
    ws = WebSocketProtocol(SERVER)
    ws.receive_eof()  # the parser fails and keeps its exception
    assert ws.parser_exc is not None
    ref = weakref.ref(ws)
    release(ws)
    del ws
    assert ref() is None


@pytest.mark.usefixtures("no_cyclic_gc")
def test_a_connection_closed_with_a_protocol_error() -> None:
    ws = WebSocketProtocol(SERVER)
    ws.receive_data(masked(Frame(Opcode.CONT, b"x")))  # a continuation with nothing to continue
    assert ws.parser_exc is not None
    ref = weakref.ref(ws)
    release(ws)
    del ws
    assert ref() is None


@pytest.mark.usefixtures("no_cyclic_gc")
def test_a_cleanly_closed_connection() -> None:
    ws = WebSocketProtocol(SERVER)
    ws.receive_data(masked(Frame(Opcode.CLOSE, Close(CloseCode.NORMAL_CLOSURE, "").serialize())))
    ws.receive_eof()
    ref = weakref.ref(ws)
    release(ws)
    del ws
    assert ref() is None
