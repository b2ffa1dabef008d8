"""The cluster scenario: fan-out through several nodes on one Redis, next to one node alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from benchmarks.pool import BenchmarkError
from benchmarks.scenarios import (
    Settings,
    latencies,
    publish_and_measure,
    publisher_metrics,
    record,
    shares,
    split,
    worker_spec,
)
from benchmarks.stats import rate, summarize_ns
from benchmarks.target import Target, parse_target

#: the metrics of the single-node run repeated in the record, with a ``single_`` prefix
SINGLE = (
    "deliveries",
    "deliveries_per_s",
    "lost",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "server_cpu_pct",
    "server_cpu_us_per_delivery",
)


def nodes_of(settings: Settings, nodes: str) -> list[Target]:
    """Parse ``HOST:PORT[:PID],...`` with the target's app credentials."""
    app = settings.target
    found = [
        parse_target(text, app_id=app.app_id, key=app.key, secret=app.secret)
        for text in nodes.split(",")
        if text
    ]
    if not found:
        raise BenchmarkError("cluster: give the cluster's nodes with --nodes HOST:PORT[:PID],...")
    return found


def spread_fanout(
    settings: Settings,
    targets: list[Target],
    subscribers: int,
    events: int,
    event_rate: float,
    padding: int,
    drain: float,
) -> dict[str, Any]:
    """Subscribers and publishers spread evenly over ``targets``; fan-out metrics of the run."""
    names = ("bench-cluster",)
    workers = max(1, settings.workers // len(targets))
    subs = []
    pubs = []
    bound = events / event_rate * 2 + settings.timeout if event_rate > 0 else settings.timeout
    for at, count, sent in zip(
        targets, split(subscribers, len(targets)), split(events, len(targets)), strict=True
    ):
        here = replace(settings, target=at, workers=workers)
        if count:
            subs.extend(shares(here, "subscribe", count, channels=names))
        if sent:
            # One publisher per node, one request at a time, its share of the rate.
            pubs.append(
                worker_spec(
                    here,
                    "publish",
                    count=1,
                    events=sent,
                    rate=event_rate * sent / events,
                    channels=names,
                    padding=padding,
                    duration=bound,
                )
            )
    published, received, metrics = publish_and_measure(
        settings, subs, pubs, drain, bound, pids=[at.pid for at in targets]
    )
    sent_metrics = publisher_metrics(published)
    last = max((r["last_ns"] for r in received), default=0)
    span = (last - sent_metrics.pop("_first_ns")) / 1e9
    metrics.update(
        events_accepted=sent_metrics["accepted"],
        statuses=sent_metrics["statuses"],
        deliveries_per_s=round(rate(metrics["deliveries"], span), 1),
        **summarize_ns(latencies(received), "latency"),
    )
    if len(pubs) > 1:
        # Publishers on different nodes have no common order (their sequences overlap).
        metrics["out_of_order"] = None
    if "server_cpu_s" in metrics and metrics["deliveries"]:
        metrics["server_cpu_us_per_delivery"] = round(
            metrics["server_cpu_s"] * 1e6 / metrics["deliveries"], 2
        )
    return metrics


def cluster(
    settings: Settings,
    subscribers: int,
    nodes: str = "",
    events: int = 200,
    event_rate: float = 20.0,
    padding: int = 0,
    drain: float = 5.0,
) -> dict[str, Any]:
    """The same fan-out on one node alone (the target) and spread over the cluster's nodes.

    Subscribers on one channel and one publisher per node are spread evenly over the
    nodes; each publisher sends its share of the events through its node's HTTP API.
    The record holds the cluster's figures, and the single node's with a ``single_``
    prefix.
    """
    members = nodes_of(settings, nodes)
    single = spread_fanout(
        settings, [settings.target], subscribers, events, event_rate, padding, drain
    )
    metrics = spread_fanout(settings, members, subscribers, events, event_rate, padding, drain)
    metrics["nodes"] = len(members)
    for name in SINGLE:
        if name in single:
            metrics[f"single_{name}"] = single[name]
    if single.get("deliveries_per_s"):
        metrics["deliveries_per_s_vs_single"] = round(
            metrics["deliveries_per_s"] / single["deliveries_per_s"], 3
        )
    params = {
        "subscribers": subscribers,
        "nodes": [at.address for at in members],
        "events": events,
        "event_rate": event_rate,
        "padding": padding,
    }
    return record("cluster", settings, params, metrics)
