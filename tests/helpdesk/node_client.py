"""A pusher-js client under Node, driven from a test through JSON lines."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "js" / "listen.cjs"


class NodeListener:
    """Runs ``js/listen.cjs`` and collects what it reports."""

    def __init__(self, node_modules: Path, config: dict[str, Any]) -> None:
        self.lines: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(config)],
            cwd=node_modules.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                self._queue.put(json.loads(line))

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        """Return the first line (seen before or arriving within ``timeout``) matching ``predicate``."""
        for line in self.lines:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"nothing matched within {timeout}s; saw {self.lines}")

    def wait_count(
        self, predicate: Callable[[dict[str, Any]], bool], count: int, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` lines (seen before or arriving within ``timeout``) match."""
        matched = [line for line in self.lines if predicate(line)]
        deadline = time.monotonic() + timeout
        while len(matched) < count and (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.lines.append(line)
            if predicate(line):
                matched.append(line)
        if len(matched) < count:
            raise AssertionError(
                f"{len(matched)} of {count} matched in {timeout}s; saw {self.lines}"
            )
        return matched

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Collect lines for ``seconds`` and return all lines seen so far."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.lines.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return self.lines

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._reader.join(5)
        if self.process.stdout:
            self.process.stdout.close()
