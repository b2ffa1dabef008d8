"""A worker process: runs one role on uvloop and answers the controller's commands over a pipe.

The conversation, every step bounded by ``spec.timeout``::

    worker → spawned
    setup  → ready {connected, failed, ...}
    go     → (the role starts its measured phase)
    poll   → progress {done, received | sent}    (any number of times)
    stop   → result {cpu_s, latencies_ns, ...}   (then the worker closes and exits)

A worker that fails sends ``error {message}`` and exits.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Any

from benchmarks.procstat import raise_fd_limit
from benchmarks.roles import ROLES, WorkerSpec


async def serve(spec: WorkerSpec, pipe: Connection) -> None:
    """Run ``spec``'s role under the controller's commands until ``stop`` or silence."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def read_commands() -> None:
        # A thread, not loop.add_reader: that would make the pipe non-blocking, and a
        # large result would then fail to send with EAGAIN.
        while True:
            try:
                command = pipe.recv()
            except (EOFError, OSError):
                command = {"cmd": "exit"}
            loop.call_soon_threadsafe(inbox.put_nowait, command)
            if command["cmd"] in ("stop", "exit"):
                return

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    role = ROLES[spec.role](spec)
    pipe.send({"kind": "spawned"})
    try:
        while True:
            try:
                async with asyncio.timeout(spec.timeout + spec.duration):
                    command = (await inbox.get())["cmd"]
            except TimeoutError:
                return  # the controller is gone or stuck: never linger
            if command == "setup":
                async with asyncio.timeout(spec.timeout * 4):
                    pipe.send({"kind": "ready", **await role.setup()})
            elif command == "go":
                role.go()
            elif command == "poll":
                pipe.send({"kind": "progress", **role.progress()})
            elif command == "stop":
                pipe.send({"kind": "result", **await role.stop()})
                return
            else:
                return
    finally:
        await role.close()


def main(spec: WorkerSpec, pipe: Connection) -> None:
    """Process entry point: raise the fd limit, install uvloop, serve, report any failure."""
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported platform
        run = asyncio.run
    else:
        run = uvloop.run
    try:
        run(serve(spec, pipe))
    except BaseException as exc:
        pipe.send({"kind": "error", "message": "".join(traceback.format_exception_only(exc))})
        traceback.print_exc()
    finally:
        pipe.close()
