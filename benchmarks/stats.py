"""Latency percentiles, delivery accounting and ratios: the suite's arithmetic, free of I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Quantiles kept in every result so latency distributions can be drawn from the JSON alone.
CDF_QUANTILES = (0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile of ascending ``sorted_values`` by linear interpolation.

    This is numpy's default ("linear") method, so figures match what analysts get
    from ``numpy.percentile`` on the same samples.

    Raises:
        ValueError: no values, or ``q`` outside [0, 100].
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile out of range: {q}")
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    weight = rank - low
    return sorted_values[low] * (1.0 - weight) + sorted_values[high] * weight


def summarize_ns(samples_ns: Iterable[int], prefix: str = "latency") -> dict[str, float | int]:
    """Summarise nanosecond samples as milliseconds: count, mean, p50/p95/p99, min, max, CDF.

    Returns ``{prefix}_count: 0`` alone when there are no samples.
    """
    values = sorted(samples_ns)
    if not values:
        return {f"{prefix}_count": 0}
    ms = 1e6
    return {
        f"{prefix}_count": len(values),
        f"{prefix}_mean_ms": round(math.fsum(values) / len(values) / ms, 3),
        f"{prefix}_min_ms": round(values[0] / ms, 3),
        f"{prefix}_p50_ms": round(percentile(values, 50) / ms, 3),
        f"{prefix}_p95_ms": round(percentile(values, 95) / ms, 3),
        f"{prefix}_p99_ms": round(percentile(values, 99) / ms, 3),
        f"{prefix}_max_ms": round(values[-1] / ms, 3),
        f"{prefix}_cdf_ms": [[q, round(percentile(values, q) / ms, 3)] for q in CDF_QUANTILES],
    }


class SequenceTracker:
    """Counts one subscriber's deliveries of numbered events, and those that arrive late.

    An event is out of order when its number is lower than one already received on
    the same connection; Pusher promises per-connection order, so any is a bug or a
    dropped-and-resent frame.
    """

    __slots__ = ("highest", "out_of_order", "received")

    def __init__(self) -> None:
        self.highest = -1
        self.received = 0
        self.out_of_order = 0

    def record(self, seq: int) -> None:
        """Count the delivery of event number ``seq``."""
        self.received += 1
        if seq < self.highest:
            self.out_of_order += 1
        else:
            self.highest = seq


@dataclass(frozen=True)
class Deliveries:
    """Delivery totals over every subscriber of a run."""

    expected: int
    received: int
    out_of_order: int

    @property
    def lost(self) -> int:
        """Expected deliveries that never arrived (duplicates cannot hide a loss: none are sent)."""
        return max(self.expected - self.received, 0)

    @property
    def loss_ratio(self) -> float:
        """The lost fraction of expected deliveries, 0.0 when none were expected."""
        return self.lost / self.expected if self.expected else 0.0


def rate(count: float, seconds: float) -> float:
    """Return ``count / seconds``, or 0.0 for an empty or instantaneous window."""
    return count / seconds if seconds > 0 else 0.0


def median(values: Sequence[float]) -> float:
    """Return the median of non-empty ``values``."""
    return percentile(sorted(values), 50)


def ratios(
    a_runs: Sequence[Mapping[str, object]], b_runs: Sequence[Mapping[str, object]]
) -> dict[str, dict[str, float | None]]:
    """Compare two targets' runs metric by metric: medians over rounds and the ratio B/A.

    Only numeric metrics present in every run of both sides are compared. The
    ratio is None when A's median is zero.

    Returns:
        ``{metric: {"a": median_a, "b": median_b, "ratio": b / a}}`` in A's key order.
    """
    if not a_runs or not b_runs:
        return {}
    table: dict[str, dict[str, float | None]] = {}
    for name in a_runs[0]:
        a_values = [run.get(name) for run in a_runs]
        b_values = [run.get(name) for run in b_runs]
        if not all(_is_number(v) for v in (*a_values, *b_values)):
            continue
        a_med = median([float(v) for v in a_values])  # type: ignore[arg-type]
        b_med = median([float(v) for v in b_values])  # type: ignore[arg-type]
        table[name] = {"a": a_med, "b": b_med, "ratio": b_med / a_med if a_med else None}
    return table


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
