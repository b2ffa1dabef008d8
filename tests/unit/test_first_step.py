"""API handlers run synchronously until they first suspend (pusherd.server.first_step)."""

from __future__ import annotations

import asyncio

import pytest

from pusherd.server import first_step
from server_api.http import ApiResponse

OK = ApiResponse(200, b"{}")


async def immediate() -> ApiResponse:
    return OK


async def suspending(gate: asyncio.Future[bytes]) -> ApiResponse:
    body = await gate
    await asyncio.sleep(0)
    return ApiResponse(200, body)


async def failing() -> ApiResponse:
    raise ValueError("boom")


def test_a_plain_response_passes_through() -> None:
    assert first_step(OK) is OK


def test_a_handler_that_never_suspends_is_answered_at_once() -> None:
    assert first_step(immediate()) is OK


def test_a_handler_failing_before_it_suspends_gets_a_500() -> None:
    result = first_step(failing())
    assert isinstance(result, ApiResponse)
    assert result.status == 500


@pytest.mark.anyio
async def test_a_handler_that_suspends_finishes_where_it_stopped() -> None:
    gate: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    pending = first_step(suspending(gate))
    assert not isinstance(pending, ApiResponse)
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(0)
    assert not task.done()
    gate.set_result(b'{"a":1}')
    response = await asyncio.wait_for(task, 10)
    assert response == ApiResponse(200, b'{"a":1}')


@pytest.mark.anyio
async def test_cancelling_a_suspended_handler_reaches_the_handler() -> None:
    gate: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def handler() -> ApiResponse:
        try:
            await gate
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return OK

    pending = first_step(handler())
    assert not isinstance(pending, ApiResponse)
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert seen == ["cancelled"]
