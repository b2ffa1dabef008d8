"""Running pusherd nodes as separate processes, and a Redis link a test can cut."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import uuid
from collections.abc import Mapping

import httpx
import redis.asyncio as aioredis

from pusherd.testing import TEST_APP
from tests.services import ROOT

_LISTENING = re.compile(rb"listening on \w+://[^:]+:(\d+)")
_NODE_ID = re.compile(rb"linked to redis as node (\w+)")

#: TEST_APP as the environment gives it to a node process
APP_ENV = {
    "PUSHERD_APP_ID": TEST_APP.id,
    "PUSHERD_APP_KEY": TEST_APP.key,
    "PUSHERD_APP_SECRET": str(TEST_APP.secret),
    "PUSHERD_APP_ENABLE_CLIENT_EVENTS": "true",
    "PUSHERD_APP_ENABLE_USER_AUTHENTICATION": "true",
}


def unique_prefix() -> str:
    """A Redis prefix no other test run uses."""
    return f"pusherd-test-{uuid.uuid4().hex[:12]}"


class NodeProcess:
    """One ``python -m pusherd`` process on 127.0.0.1 and an ephemeral port."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.log: list[bytes] = []
        self._drain = asyncio.get_running_loop().create_task(self._read_log())

    @classmethod
    async def start(
        cls,
        redis_url: str,
        prefix: str,
        *,
        lease: float = 3.0,
        env: Mapping[str, str] | None = None,
    ) -> NodeProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PUSHERD_")}
        environ.update(APP_ENV)
        environ.update(env or {})
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pusherd",
            "--host=127.0.0.1",
            "--port=0",
            f"--redis-url={redis_url}",
            f"--redis-prefix={prefix}",
            f"--redis-lease={lease}",
            "--timeout-shutdown=0.5",
            cwd=ROOT,
            env=environ,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        lines = []
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), 15)
            lines.append(line)
            if not line:
                raise AssertionError("node exited before listening:\n" + b"".join(lines).decode())
            found = _LISTENING.search(line)
            if found:
                node = cls(process, int(found.group(1)))
                node.log = lines
                return node

    async def _read_log(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.log.append(line)

    def logged(self, text: str) -> int:
        """How many log lines contain ``text``."""
        return sum(text.encode() in line for line in self.log)

    @property
    def node_id(self) -> str:
        """The id the node's backplane announced when it linked to Redis."""
        for line in self.log:
            found = _NODE_ID.search(line)
            if found:
                return found.group(1).decode()
        raise AssertionError("the node has not linked to redis")

    async def ready(self) -> bool:
        """What the node's /ready answers."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.port}/ready")
        return response.status_code == 200

    def kill(self) -> None:
        """SIGKILL: no goodbye to the cluster."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
        await self.process.wait()
        self._drain.cancel()


class RedisProxy:
    """A TCP relay on a loopback port in front of the shared Redis that a test can cut.

    Cutting it resets every relayed connection and refuses new ones (``reset``) or holds
    them silent (``silent``), so a node loses Redis while the real server, which other
    tests share, keeps running untouched.
    """

    def __init__(self, target_port: int = 6379) -> None:
        self.target_port = target_port
        self.mode = "open"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def __aenter__(self) -> RedisProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self, mode: str = "reset") -> None:
        """Lose Redis: ``reset`` closes every connection; ``silent`` stops relaying bytes."""
        assert mode in ("reset", "silent")
        self.mode = mode
        if mode == "reset":
            self._drop_all()

    def restore(self) -> None:
        """Relay again; connections held silent are dropped so that clients reconnect."""
        if self.mode == "silent":
            self._drop_all()
        self.mode = "open"

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            writer.transport.abort()
            return
        self._writers.add(writer)
        if self.mode == "silent":
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream)
        for source, sink in ((reader, upstream), (upstream_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._relay(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _relay(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if self.mode != "open":
                    continue
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)


async def delete_prefix(url: str, prefix: str) -> None:
    """Remove every key a test's nodes left under ``prefix``."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
