"""The five scenarios: each drives a worker pool through its phases and returns one record."""

from __future__ import annotations

import datetime
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from benchmarks.pool import BenchmarkError, WorkerPool
from benchmarks.procstat import ProbeSet, ProcessProbe, Sample, usage
from benchmarks.roles import WorkerSpec
from benchmarks.stats import Deliveries, rate, summarize_ns
from benchmarks.target import Target


@dataclass(frozen=True)
class Settings:
    """What every scenario shares.

    Attributes:
        target: the server under test.
        library: the WebSocket client library.
        workers: processes for the WebSocket side (the publisher has its own).
        publishers: processes sending HTTP requests.
        timeout: bound on any single wait, in seconds.
        label: a name for the target in results (``A``, ``pusherd``...).
    """

    target: Target
    library: str = "picows"
    workers: int = 2
    publishers: int = 1
    timeout: float = 30.0
    label: str = ""


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal non-negative shares, larger ones first."""
    parts = max(parts, 1)
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def shares(settings: Settings, role: str, total: int, **fields: Any) -> list[WorkerSpec]:
    """Spread ``total`` connections (or pairs) of ``role`` over the WebSocket workers."""
    specs = []
    first = 0
    for count in split(total, settings.workers):
        if count:
            specs.append(worker_spec(settings, role, count=count, first=first, **fields))
        first += count
    return specs


def worker_spec(settings: Settings, role: str, **fields: Any) -> WorkerSpec:
    """A spec with the shared settings filled in."""
    return WorkerSpec(
        role=role,
        target=settings.target,
        library=settings.library,
        timeout=settings.timeout,
        **fields,
    )


class Window:
    """The measured window: server CPU and RSS from its PIDs (summed), the controller's CPU."""

    def __init__(self, *pids: int | None) -> None:
        probes = [ProcessProbe(pid) for pid in pids if pid]
        self.probe = ProbeSet(probes) if probes else None
        self.before: Sample | None = None
        self.started = 0.0
        self.cpu = 0.0

    def open(self) -> None:
        self.before = self.probe.sample() if self.probe else None
        self.started = time.monotonic()
        self.cpu = time.process_time()

    def close(self, worker_cpu_s: float) -> dict[str, Any]:
        """Return server and generator usage over the window; generator = workers + controller."""
        wall = time.monotonic() - self.started
        generator = worker_cpu_s + time.process_time() - self.cpu
        metrics: dict[str, Any] = {
            "window_s": round(wall, 3),
            "generator_cpu_s": round(generator, 3),
            "generator_cpu_pct": round(100 * generator / wall, 1) if wall > 0 else 0.0,
        }
        if self.probe and self.before:
            metrics.update(usage(self.before, self.probe.sample(), "server"))
        return metrics


def poll_until(
    pool: WorkerPool,
    which: Sequence[int],
    finished: Callable[[list[dict[str, Any]]], bool],
    limit: float,
) -> bool:
    """Poll every 100 ms until ``finished(answers)`` or ``limit`` seconds; return whether done."""
    deadline = time.monotonic() + limit
    while True:
        pool.send("poll", which)
        if finished(pool.collect("progress", which)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def latencies(results: Iterable[dict[str, Any]], key: str = "latencies_ns") -> array[int]:
    """Concatenate the workers' compact latency arrays."""
    merged = array("q")
    for result in results:
        merged.frombytes(result[key])
    return merged


def check_ready(ready: Sequence[dict[str, Any]], wanted: int) -> int:
    """Return the number of connections opened; raise when none opened."""
    connected = sum(r["connected"] for r in ready)
    if wanted and not connected:
        errors = {r["first_error"] for r in ready if r.get("first_error")}
        raise BenchmarkError(f"no connection could subscribe: {'; '.join(sorted(errors))}")
    return connected


def record(
    scenario: str, settings: Settings, params: dict[str, Any], metrics: dict[str, Any]
) -> dict[str, Any]:
    """Assemble one result line."""
    return {
        "scenario": scenario,
        "label": settings.label or settings.target.address,
        "target": settings.target.address,
        "client": settings.library,
        "workers": settings.workers,
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "params": params,
        "metrics": metrics,
    }


def capacity(
    settings: Settings, connections: int, channels: int = 1, hold: float = 2.0
) -> dict[str, Any]:
    """N connections each subscribed to a public channel: rate, time, server memory per socket."""
    names = tuple(f"bench-capacity-{i}" for i in range(max(channels, 1)))
    specs = shares(settings, "subscribe", connections, channels=names, duration=hold)
    window = Window(settings.target.pid)
    with WorkerPool(specs, answer_timeout=settings.timeout * 4) as pool:
        window.open()
        pool.send("setup")
        ready = pool.collect("ready")
        connected = check_ready(ready, connections)
        span_ns = max(r["end_ns"] for r in ready) - min(r["start_ns"] for r in ready)
        time.sleep(max(hold, 0.0))  # let the server settle so RSS reflects held connections
        pool.send("go")
        pool.send("stop")
        results = pool.collect("result")
    setup_cpu = sum(r["setup_cpu_s"] for r in ready) + sum(r["cpu_s"] for r in results)
    metrics = {
        "connected": connected,
        "failed": sum(r["failed"] for r in ready),
        "time_to_all_subscribed_s": round(span_ns / 1e9, 3),
        "subscribe_rate_per_s": round(rate(connected, span_ns / 1e9), 1),
        **summarize_ns(latencies(ready, "setup_ns"), "subscribe"),
        **window.close(setup_cpu),
    }
    if window.before is not None and "server_rss_mb" in metrics:
        grown = metrics["server_rss_mb"] * 2**20 - window.before.rss_bytes
        metrics["server_rss_before_mb"] = round(window.before.rss_bytes / 2**20, 1)
        metrics["server_rss_per_connection_kb"] = round(grown / max(connected, 1) / 1024, 2)
    errors = [r["first_error"] for r in ready if r.get("first_error")]
    if errors:
        metrics["first_error"] = errors[0]
    params = {"connections": connections, "channels": channels, "hold_s": hold}
    return record("capacity", settings, params, metrics)


def publish_and_measure(
    settings: Settings,
    subscriber_specs: list[WorkerSpec],
    publisher_specs: list[WorkerSpec],
    drain: float,
    bound: float,
    pids: Sequence[int | None] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Run subscribers and publishers together; return their results and the window usage.

    ``pids`` are the server processes to measure; by default the target's.
    """
    window = Window(*(pids or (settings.target.pid,)))
    with WorkerPool(
        [*subscriber_specs, *publisher_specs], answer_timeout=settings.timeout * 4
    ) as pool:
        subs = pool.indexes("subscribe", "churn")
        pubs = pool.indexes("publish")
        pool.send("setup")
        ready = pool.collect("ready")
        steady = [i for i in subs if pool.specs[i].role == "subscribe"]
        check_ready([ready[subs.index(i)] for i in subs], sum(s.count for s in subscriber_specs))
        window.open()
        pool.send("go")
        poll_until(pool, pubs, lambda answers: all(a["done"] for a in answers), bound)
        pool.send("stop", pubs)
        published = pool.collect("result", pubs)
        accepted = sum(r["accepted"] for r in published)
        connected = sum(ready[i]["connected"] for i in steady)
        expected = accepted * connected
        poll_until(
            pool, steady, lambda answers: sum(a["received"] for a in answers) >= expected, drain
        )
        pool.send("stop", subs)
        received = pool.collect("result", subs)
        cpu = sum(r["cpu_s"] for r in (*published, *received))
        metrics = window.close(cpu)
        failed = sum(ready[i]["failed"] for i in subs)
        metrics["subscribers"] = connected
        metrics["subscribe_failed"] = failed
        steady_results = [received[subs.index(i)] for i in steady]
        deliveries = Deliveries(
            expected=expected,
            received=sum(r["received"] for r in steady_results),
            out_of_order=sum(r["out_of_order"] for r in steady_results),
        )
        metrics.update(
            deliveries_expected=deliveries.expected,
            deliveries=deliveries.received,
            lost=deliveries.lost,
            out_of_order=deliveries.out_of_order,
        )
    return published, received, metrics


def publisher_metrics(published: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests sent, accepted, per second, by status, and their latency."""
    first = min((r["first_ns"] for r in published if r["first_ns"]), default=0)
    last = max((r["last_ns"] for r in published), default=0)
    statuses: dict[str, int] = {}
    for result in published:
        for key, count in result["statuses"].items():
            statuses[key] = statuses.get(key, 0) + count
    accepted = sum(r["accepted"] for r in published)
    return {
        "requests": sum(r["sent"] for r in published),
        "accepted": accepted,
        "statuses": statuses,
        "requests_per_s": round(rate(accepted, (last - first) / 1e9), 1),
        **summarize_ns(latencies(published), "request"),
        "_first_ns": first,
    }


def fanout(
    settings: Settings,
    subscribers: int,
    events: int = 200,
    event_rate: float = 20.0,
    channels: int = 1,
    padding: int = 0,
    drain: float = 5.0,
) -> dict[str, Any]:
    """N subscribers, M timestamped events through the API: deliveries/s, latency, losses, order."""
    names = tuple(f"bench-fanout-{i}" for i in range(max(channels, 1)))
    subs = shares(settings, "subscribe", subscribers, channels=names)
    bound = events / event_rate * 2 + settings.timeout if event_rate > 0 else settings.timeout
    # One client, one request at a time: Pusher orders events published one after the
    # other, so any out-of-order delivery is the server's doing.
    publisher = worker_spec(
        settings,
        "publish",
        count=1,
        events=events,
        rate=event_rate,
        channels=names,
        padding=padding,
        duration=bound,
    )
    published, received, metrics = publish_and_measure(settings, subs, [publisher], drain, bound)
    sent = publisher_metrics(published)
    last = max((r["last_ns"] for r in received), default=0)
    span = (last - sent.pop("_first_ns")) / 1e9
    metrics.update(
        events_accepted=sent["accepted"],
        statuses=sent["statuses"],
        deliveries_per_s=round(rate(metrics["deliveries"], span), 1),
        **summarize_ns(latencies(received), "latency"),
    )
    if metrics["deliveries"]:
        # The generator's cost per message: what tells client libraries apart.
        metrics["generator_cpu_us_per_delivery"] = round(
            metrics["generator_cpu_s"] * 1e6 / metrics["deliveries"], 2
        )
    if "server_cpu_s" in metrics and metrics["deliveries"]:
        metrics["server_cpu_us_per_delivery"] = round(
            metrics["server_cpu_s"] * 1e6 / metrics["deliveries"], 2
        )
    params = {
        "subscribers": subscribers,
        "events": events,
        "event_rate": event_rate,
        "channels": channels,
        "padding": padding,
    }
    return record("fanout", settings, params, metrics)


def trigger(
    settings: Settings,
    clients: int = 8,
    requests: int = 2000,
    subscribers: int = 0,
    duration: float = 20.0,
    drain: float = 5.0,
) -> dict[str, Any]:
    """K concurrent HTTP clients triggering as fast as answered, with or without subscribers."""
    channel = ("bench-trigger",)
    subs = shares(settings, "subscribe", subscribers, channels=channel) if subscribers else []
    publishers = [
        worker_spec(settings, "publish", count=k, events=n, channels=channel, duration=duration)
        for k, n in zip(
            split(clients, settings.publishers), split(requests, settings.publishers), strict=True
        )
        if k and n
    ]
    published, received, metrics = publish_and_measure(
        settings, subs, publishers, drain, duration + settings.timeout
    )
    sent = publisher_metrics(published)
    sent.pop("_first_ns")
    metrics.update(sent)
    if clients > 1:
        # Concurrent requests have no order between them: counting inversions means nothing.
        metrics["out_of_order"] = None
    if received:
        metrics.update(summarize_ns(latencies(received), "latency"))
    if "server_cpu_s" in metrics and sent["accepted"]:
        metrics["server_cpu_us_per_request"] = round(
            metrics["server_cpu_s"] * 1e6 / sent["accepted"], 2
        )
    params = {"clients": clients, "requests": requests, "subscribers": subscribers}
    return record("trigger", settings, params, metrics)


def client_events(
    settings: Settings, pairs: int = 50, messages: int = 20, pair_rate: float = 5.0
) -> dict[str, Any]:
    """Pairs on private channels; one client event there and an echo back, timed round trip."""
    duration = messages / pair_rate * 3 + settings.timeout if pair_rate > 0 else settings.timeout
    specs = shares(settings, "pairs", pairs, events=messages, rate=pair_rate, duration=duration)
    window = Window(settings.target.pid)
    with WorkerPool(specs, answer_timeout=settings.timeout * 4) as pool:
        pool.send("setup")
        ready = pool.collect("ready")
        check_ready(ready, pairs)
        window.open()
        pool.send("go")
        poll_until(
            pool, range(len(specs)), lambda answers: all(a["done"] for a in answers), duration
        )
        pool.send("stop")
        results = pool.collect("result")
    metrics = {
        "pairs": sum(r["pairs"] for r in results),
        "pair_failed": sum(r["failed"] for r in ready),
        "round_trips_lost": sum(r["lost"] for r in results),
        "server_errors": sum(r["server_errors"] for r in results),
        **window.close(sum(r["cpu_s"] for r in results)),
        **summarize_ns(latencies(results), "rtt"),
    }
    metrics["round_trips_per_s"] = round(rate(metrics["rtt_count"], metrics["window_s"]), 1)
    errors = [r["first_error"] for r in (*ready, *results) if r.get("first_error")]
    if errors:
        metrics["first_error"] = errors[0]
    params = {"pairs": pairs, "messages": messages, "pair_rate": pair_rate}
    return record("client-events", settings, params, metrics)


def soketi_ci(
    settings: Settings,
    steady: int = 250,
    churning: int = 250,
    duration: float = 30.0,
    event_rate: float = 1.0,
    hold: tuple[float, float] = (1.0, 5.0),
) -> dict[str, Any]:
    """soketi's CI load: steady and churning clients on ``benchmark``, one timed event a second."""
    channel = ("benchmark",)
    subs = [
        *shares(settings, "subscribe", steady, channels=channel),
        *[
            replace(spec, first=spec.first + steady)
            for spec in shares(
                settings, "churn", churning, channels=channel, duration=duration, hold=hold
            )
        ],
    ]
    events = max(int(duration * event_rate), 1)
    publisher = worker_spec(
        settings,
        "publish",
        count=1,
        events=events,
        rate=event_rate,
        channels=channel,
        event_name="timed-message",
        duration=duration + settings.timeout,
    )
    published, received, metrics = publish_and_measure(
        settings, subs, [publisher], drain=2.0, bound=duration + settings.timeout
    )
    churn = [r for r in received if "reconnects" in r]
    metrics.update(
        events_accepted=sum(r["accepted"] for r in published),
        reconnects=sum(r["reconnects"] for r in churn),
        reconnect_failed=sum(r["failed"] for r in churn),
        **summarize_ns(latencies(received), "delay"),
    )
    params = {
        "steady": steady,
        "churning": churning,
        "duration_s": duration,
        "event_rate": event_rate,
        "hold_s": list(hold),
    }
    return record("soketi-ci", settings, params, metrics)


SCENARIOS = ("capacity", "fanout", "trigger", "client-events", "soketi-ci")
