"""Process measurements: the server's CPU time and memory from its PID, and the fd limit."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import psutil


def raise_fd_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit and return the new limit.

    Each WebSocket is a file descriptor; the usual soft limit of 1024 would cap a
    worker far below the connection counts the scenarios ask for.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass(frozen=True)
class Sample:
    """One reading of a process tree: CPU seconds (user + system) and resident memory."""

    at: float
    cpu_s: float
    rss_bytes: int


class ProcessProbe:
    """Reads CPU time and RSS of a process and its children (a server may fork workers)."""

    def __init__(self, pid: int) -> None:
        """Attach to ``pid``.

        Raises:
            ProcessLookupError: no process has that PID.
        """
        try:
            self.process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            raise ProcessLookupError(f"no server process with PID {pid}") from None

    def sample(self) -> Sample:
        """Read the process tree now.

        Raises:
            ProcessLookupError: the server exited.
        """
        try:
            processes = [self.process, *self.process.children(recursive=True)]
        except psutil.NoSuchProcess:
            raise ProcessLookupError(f"the server (PID {self.process.pid}) exited") from None
        cpu = 0.0
        rss = 0
        for proc in processes:
            try:
                times = proc.cpu_times()
                cpu += times.user + times.system
                rss += proc.memory_info().rss
            except psutil.NoSuchProcess:
                if proc is self.process:
                    raise ProcessLookupError(f"the server (PID {proc.pid}) exited") from None
        return Sample(at=time.monotonic(), cpu_s=cpu, rss_bytes=rss)


class ProbeSet:
    """Several servers read as one: CPU and RSS summed (the nodes of a cluster)."""

    def __init__(self, probes: list[ProcessProbe]) -> None:
        self.probes = probes

    def sample(self) -> Sample:
        """Read every process tree now; see :meth:`ProcessProbe.sample`."""
        samples = [probe.sample() for probe in self.probes]
        return Sample(
            at=max(s.at for s in samples),
            cpu_s=sum(s.cpu_s for s in samples),
            rss_bytes=sum(s.rss_bytes for s in samples),
        )


def usage(before: Sample, after: Sample, prefix: str) -> dict[str, float | int]:
    """Describe the window between two samples: CPU seconds, CPU as % of one core, RSS after."""
    cpu = after.cpu_s - before.cpu_s
    wall = after.at - before.at
    return {
        f"{prefix}_cpu_s": round(cpu, 3),
        f"{prefix}_cpu_pct": round(100.0 * cpu / wall, 1) if wall > 0 else 0.0,
        f"{prefix}_rss_mb": round(after.rss_bytes / 2**20, 1),
    }
