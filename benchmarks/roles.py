"""What each worker process does: subscribe, churn, ping-pong in pairs, or publish over the API."""

from __future__ import annotations

import asyncio
import random
import time
from array import array
from dataclasses import dataclass
from typing import Any

from benchmarks import wire
from benchmarks.api import ApiClient
from benchmarks.client import PusherSocket, now_ns, open_socket
from benchmarks.target import Target
from benchmarks.wsclient import connector


@dataclass(frozen=True)
class WorkerSpec:
    """One worker's share of a scenario. Every loop it drives is bounded by a count and a time.

    Attributes:
        role: one of `ROLES`.
        target: the server under test.
        library: the WebSocket client library.
        count: connections (subscribe, churn), pairs (pairs) or concurrent HTTP clients (publish).
        first: global number of this worker's first connection or pair, to spread channels.
        channels: subscribe/churn: channels spread round robin; publish: channels of each event.
        events: publish: requests to send; pairs: round trips per pair.
        rate: publish: events per second overall (0: as fast as responses come);
            pairs: round trips per second per pair.
        duration: upper bound on the active phase, in seconds.
        hold: churn: the range of seconds a connection stays before it reconnects.
        padding: extra characters in each event's data.
        connect_concurrency: handshakes in flight at once.
        timeout: upper bound on any single wait (connect, subscribe, a command).
    """

    role: str
    target: Target
    library: str = "picows"
    count: int = 0
    first: int = 0
    channels: tuple[str, ...] = ("bench",)
    events: int = 0
    rate: float = 0.0
    duration: float = 30.0
    hold: tuple[float, float] = (1.0, 5.0)
    padding: int = 0
    event_name: str = "bench"
    connect_concurrency: int = 100
    timeout: float = 30.0


class Role:
    """The phases the controller drives: setup, go, progress, stop."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.active = False
        self.tasks: list[asyncio.Task[None]] = []
        self.cpu_at_go = 0.0

    async def setup(self) -> dict[str, Any]:
        """Prepare (open connections) and return a readiness report."""
        return {}

    def go(self) -> None:
        """Start the measured phase."""
        self.active = True
        self.cpu_at_go = time.process_time()

    def progress(self) -> dict[str, Any]:
        """Report counters while the measured phase runs."""
        return {"done": all(task.done() for task in self.tasks)}

    async def stop(self) -> dict[str, Any]:
        """End the measured phase and return its results."""
        self.active = False
        for task in self.tasks:
            task.cancel()
        outcomes = await asyncio.gather(*self.tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome  # a bug in the generator must not pass for a slow server
        return {"cpu_s": round(time.process_time() - self.cpu_at_go, 4)}

    async def close(self) -> None:
        """Release connections."""


class Subscribers(Role):
    """Holds ``count`` subscribed connections and times every numbered event they receive."""

    def __init__(self, spec: WorkerSpec) -> None:
        super().__init__(spec)
        self.connect = connector(spec.library)
        self.sockets: list[PusherSocket] = []
        self.latencies = array("q")
        self.received = 0
        self.first_ns = 0
        self.last_ns = 0
        self.failures = 0
        self.first_error = ""

    def on_timed(self, sock: PusherSocket, seq: int, sent_ns: int) -> None:
        # Counted from subscription on, not from "go": the publisher may get its "go"
        # and deliver before this worker reads its own.
        now = now_ns()
        self.latencies.append(now - sent_ns)
        sock.tracker.record(seq)
        self.received += 1
        if not self.first_ns:
            self.first_ns = now
        self.last_ns = now

    def channel_of(self, index: int) -> str:
        channels = self.spec.channels
        return channels[(self.spec.first + index) % len(channels)]

    async def open(self, index: int, gate: asyncio.Semaphore) -> PusherSocket | None:
        async with gate:
            try:
                return await open_socket(
                    self.connect,
                    self.spec.target,
                    self.channel_of(index),
                    self.on_timed,
                    self.spec.timeout,
                )
            except Exception as exc:  # any refused handshake is counted; the run goes on
                self.failures += 1
                self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"[:300]
                return None

    async def setup(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        start = now_ns()
        cpu = time.process_time()
        opened_ns = array("q")

        async def timed_open(index: int) -> PusherSocket | None:
            began = now_ns()
            sock = await self.open(index, gate)
            if sock is not None:
                opened_ns.append(now_ns() - began)
            return sock

        results = await asyncio.gather(*(timed_open(i) for i in range(self.spec.count)))
        self.sockets = [sock for sock in results if sock is not None]
        return {
            "connected": len(self.sockets),
            "failed": self.failures,
            "first_error": self.first_error,
            "start_ns": start,
            "end_ns": now_ns(),
            "setup_ns": opened_ns.tobytes(),
            "setup_cpu_s": round(time.process_time() - cpu, 4),
        }

    def progress(self) -> dict[str, Any]:
        return {"done": True, "received": self.received}

    async def stop(self) -> dict[str, Any]:
        result = await super().stop()
        return {
            **result,
            "received": self.received,
            "out_of_order": sum(sock.tracker.out_of_order for sock in self.sockets),
            "subscribers": len(self.sockets),
            "closed_early": sum(sock.closed for sock in self.sockets),
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "latencies_ns": self.latencies.tobytes(),
        }

    async def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        await asyncio.sleep(0.2)  # let close frames leave before the process exits


class Churners(Subscribers):
    """Connections that each stay a random while, leave, and come back, until stopped."""

    def __init__(self, spec: WorkerSpec) -> None:
        super().__init__(spec)
        self.reconnects = 0
        self.random = random.Random(spec.first)

    def go(self) -> None:
        super().go()
        deadline = time.monotonic() + self.spec.duration
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        self.tasks = [
            asyncio.ensure_future(self.churn(slot, gate, deadline))
            for slot in range(len(self.sockets))
        ]

    async def churn(self, slot: int, gate: asyncio.Semaphore, deadline: float) -> None:
        low, high = self.spec.hold
        while time.monotonic() < deadline:
            await asyncio.sleep(self.random.uniform(low, high))
            self.sockets[slot].close()
            sock = await self.open(slot, gate)
            if sock is None:
                await asyncio.sleep(low)  # a refused reconnect must not spin
                continue
            self.sockets[slot] = sock
            self.reconnects += 1

    def progress(self) -> dict[str, Any]:
        return {"done": True, "received": self.received}

    async def stop(self) -> dict[str, Any]:
        result = await super().stop()
        result["out_of_order"] = 0  # a reconnected socket starts mid-sequence: not comparable
        result["reconnects"] = self.reconnects
        result["failed"] = self.failures
        return result


class Pairs(Role):
    """Pairs on a private channel: A sends client events, B echoes them, A times the trip."""

    def __init__(self, spec: WorkerSpec) -> None:
        super().__init__(spec)
        self.subscribers = Subscribers(spec)
        self.pairs: list[tuple[PusherSocket, PusherSocket]] = []
        self.waiters: dict[int, asyncio.Future[int]] = {}
        self.round_trips = array("q")
        self.lost = 0

    async def setup(self) -> dict[str, Any]:
        spec = self.spec
        gate = asyncio.Semaphore(spec.connect_concurrency)

        async def open_pair(index: int) -> tuple[PusherSocket, PusherSocket] | None:
            channel = f"private-bench-{spec.first + index}"
            try:
                a, b = await asyncio.gather(
                    self._open(channel, self.on_pong, gate), self._open(channel, self.on_ping, gate)
                )
            except Exception as exc:  # counted, as for subscribers
                self.subscribers.failures += 1
                self.subscribers.first_error = self.subscribers.first_error or str(exc)[:300]
                return None
            return a, b

        start = now_ns()
        pairs = await asyncio.gather(*(open_pair(i) for i in range(spec.count)))
        self.pairs = [pair for pair in pairs if pair is not None]
        return {
            "connected": 2 * len(self.pairs),
            "failed": self.subscribers.failures,
            "first_error": self.subscribers.first_error,
            "start_ns": start,
            "end_ns": now_ns(),
        }

    async def _open(self, channel: str, on_timed: Any, gate: asyncio.Semaphore) -> PusherSocket:
        async with gate:
            return await open_socket(
                self.subscribers.connect, self.spec.target, channel, on_timed, self.spec.timeout
            )

    def on_ping(self, sock: PusherSocket, seq: int, sent_ns: int) -> None:
        sock.send(wire.client_event(sock.channel, "client-pong", wire.timed_data(seq, sent_ns)))

    def on_pong(self, sock: PusherSocket, seq: int, sent_ns: int) -> None:
        now = now_ns()
        waiter = self.waiters.get(seq)
        if waiter is not None and not waiter.done():
            waiter.set_result(now - sent_ns)

    def go(self) -> None:
        super().go()
        deadline = time.monotonic() + self.spec.duration
        self.tasks = [
            asyncio.ensure_future(self.ping_pong(index, a, deadline))
            for index, (a, _) in enumerate(self.pairs)
        ]

    async def ping_pong(self, index: int, a: PusherSocket, deadline: float) -> None:
        spec = self.spec
        interval = 1.0 / spec.rate if spec.rate > 0 else 0.0
        loop = asyncio.get_running_loop()
        for k in range(spec.events):
            if time.monotonic() >= deadline:
                break
            # Unique across the worker's pairs, so one dict routes every pong.
            seq = k * spec.count + index
            waiter: asyncio.Future[int] = loop.create_future()
            self.waiters[seq] = waiter
            a.send(wire.client_event(a.channel, "client-ping", wire.timed_data(seq, now_ns())))
            try:
                async with asyncio.timeout(min(spec.timeout, 5.0)):
                    self.round_trips.append(await waiter)
            except TimeoutError:
                self.lost += 1
                if a.errors:
                    break  # refused (client events disabled?): waiting on would only add losses
            finally:
                del self.waiters[seq]
            if interval:
                await asyncio.sleep(interval)

    async def stop(self) -> dict[str, Any]:
        result = await super().stop()
        return {
            **result,
            "pairs": len(self.pairs),
            "lost": self.lost,
            "server_errors": sum(a.errors + b.errors for a, b in self.pairs),
            "first_error": next((a.first_error for a, _ in self.pairs if a.first_error), ""),
            "latencies_ns": self.round_trips.tobytes(),
        }

    async def close(self) -> None:
        for a, b in self.pairs:
            a.close()
            b.close()
        await asyncio.sleep(0.2)


class Publisher(Role):
    """Sends numbered, timestamped events through the signed HTTP API with ``count`` clients."""

    def __init__(self, spec: WorkerSpec) -> None:
        super().__init__(spec)
        self.clients = [ApiClient(spec.target) for _ in range(max(spec.count, 1))]
        self.next_seq = 0
        self.sent = 0
        self.accepted = 0
        self.statuses: dict[str, int] = {}
        self.request_ns = array("q")
        self.first_ns = 0
        self.last_ns = 0

    def go(self) -> None:
        super().go()
        started = time.monotonic()
        deadline = started + self.spec.duration
        self.tasks = [
            asyncio.ensure_future(self.send_loop(client, started, deadline))
            for client in self.clients
        ]

    async def send_loop(self, client: ApiClient, started: float, deadline: float) -> None:
        spec = self.spec
        path = spec.target.events_path
        while self.next_seq < spec.events and time.monotonic() < deadline:
            seq = self.next_seq
            self.next_seq += 1
            if spec.rate > 0:
                delay = started + seq / spec.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent_ns = now_ns()
            body = wire.trigger_body(
                spec.channels, spec.event_name, wire.timed_data(seq, sent_ns, spec.padding)
            )
            self.first_ns = self.first_ns or sent_ns
            self.sent += 1
            try:
                status, _ = await client.post(path, body, limit=spec.timeout)
            except (OSError, TimeoutError) as exc:
                key = type(exc).__name__
            else:
                key = str(status)
                if 200 <= status < 300:
                    self.accepted += 1
            done_ns = now_ns()
            self.last_ns = done_ns
            self.request_ns.append(done_ns - sent_ns)
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def progress(self) -> dict[str, Any]:
        return {**super().progress(), "sent": self.sent}

    async def stop(self) -> dict[str, Any]:
        result = await super().stop()
        return {
            **result,
            "sent": self.sent,
            "accepted": self.accepted,
            "statuses": self.statuses,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "latencies_ns": self.request_ns.tobytes(),
        }

    async def close(self) -> None:
        for client in self.clients:
            client.close()


ROLES: dict[str, type[Role]] = {
    "subscribe": Subscribers,
    "churn": Churners,
    "pairs": Pairs,
    "publish": Publisher,
}
