"""pusherd and the helpdesk running together on loopback ports, in one background loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import uvicorn

from examples.helpdesk.app import create_app
from examples.helpdesk.config import Settings
from examples.helpdesk.db import utcnow
from examples.helpdesk.embedded_pusherd import embedded_pusherd


class Stack:
    """The realtime stack of a test: a pusherd node (stoppable) and the helpdesk on uvicorn."""

    def __init__(
        self, settings: Settings, *, clock: Callable[[], datetime] = utcnow, ui: bool = False
    ) -> None:
        self.settings = settings
        self.app = create_app(settings, clock=clock, ui=ui)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._pusherd: contextlib.AbstractAsyncContextManager[Any] | None = None
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", ws="none")
        )
        self._serving: asyncio.Future[Any] | None = None

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> Stack:
        self._thread.start()
        self.start_pusherd()

        async def serve() -> None:
            self._serving = asyncio.ensure_future(self._server.serve(sockets=[self._sock]))
            for _ in range(400):
                if self._server.started or self._serving.done():
                    break
                await asyncio.sleep(0.025)
            if not self._server.started:
                raise RuntimeError("the helpdesk did not start")

        self._run(serve())
        return self

    def start_pusherd(self) -> None:
        async def start() -> None:
            self._pusherd = embedded_pusherd(self.settings.pusher)
            await self._pusherd.__aenter__()

        self._run(start())

    def stop_pusherd(self) -> None:
        async def stop() -> None:
            if self._pusherd is not None:
                await self._pusherd.__aexit__(None, None, None)
                self._pusherd = None

        self._run(stop())

    def close(self) -> None:
        async def shutdown() -> None:
            self._server.should_exit = True
            if self._serving is not None:
                await asyncio.wait_for(self._serving, 20)

        try:
            self._run(shutdown())
        finally:
            self.stop_pusherd()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            self._sock.close()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
