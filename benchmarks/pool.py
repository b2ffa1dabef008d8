"""The controller's side of the workers: spawn, command, collect, and always reap them."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from benchmarks import worker
from benchmarks.roles import WorkerSpec


class BenchmarkError(RuntimeError):
    """A worker failed, or did not answer in time."""


class WorkerPool:
    """Worker processes (spawned, so none inherits the controller's event loop or sockets)."""

    def __init__(self, specs: Sequence[WorkerSpec], answer_timeout: float = 60.0) -> None:
        context = multiprocessing.get_context("spawn")
        self.specs = list(specs)
        self.answer_timeout = answer_timeout
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self._child_ends: list[Connection] = []
        for spec in self.specs:
            parent, child = context.Pipe()
            self.pipes.append(parent)
            self.processes.append(
                context.Process(target=worker.main, args=(spec, child), daemon=True)
            )
            self._child_ends.append(child)

    def __enter__(self) -> WorkerPool:
        for process in self.processes:
            process.start()
        for child in self._child_ends:
            child.close()  # the worker holds its end: EOF now means the worker exited
        self.collect("spawned")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def indexes(self, *roles: str) -> list[int]:
        """Return the indexes of the workers running any of ``roles``."""
        return [i for i, spec in enumerate(self.specs) if spec.role in roles]

    def send(self, command: str, which: Sequence[int] | None = None) -> None:
        """Send ``command`` to the workers ``which`` (all by default)."""
        for i in range(len(self.pipes)) if which is None else which:
            self.pipes[i].send({"cmd": command})

    def collect(
        self, kind: str, which: Sequence[int] | None = None, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Wait for one ``kind`` message from each worker in ``which``, in their order.

        Raises:
            BenchmarkError: a worker reported an error, exited, or stayed silent.
        """
        indexes = list(range(len(self.pipes)) if which is None else which)
        answers: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + (self.answer_timeout if timeout is None else timeout)
        while len(answers) < len(indexes):
            waiting = {self.pipes[i]: i for i in indexes if i not in answers}
            ready = wait(list(waiting), timeout=max(deadline - time.monotonic(), 0))
            if not ready:
                raise BenchmarkError(f"workers {sorted(waiting.values())} did not send {kind!r}")
            for pipe in ready:
                index = waiting[pipe]  # type: ignore[index]
                try:
                    message = pipe.recv()  # type: ignore[union-attr]
                except EOFError:
                    raise BenchmarkError(f"worker {index} exited before {kind!r}") from None
                if message.get("kind") == "error":
                    raise BenchmarkError(f"worker {index} failed: {message.get('message')}")
                if message.get("kind") != kind:
                    raise BenchmarkError(
                        f"worker {index} sent {message.get('kind')!r}, not {kind!r}"
                    )
                answers[index] = message
        return [answers[i] for i in indexes]

    def close(self) -> None:
        """Ask every worker to stop, then terminate any that do not exit within seconds."""
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send({"cmd": "exit"})
        deadline = time.monotonic() + 5.0
        for process in self.processes:
            if process.pid is None:
                continue
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                process.terminate()
                process.join(2.0)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self.pipes:
            pipe.close()
