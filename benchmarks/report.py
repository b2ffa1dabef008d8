"""Result records: JSON lines out and back in, and the terminal tables of runs and of ratios."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The parameter that varies between runs of a scenario, shown first in its table.
KEY_PARAM = {
    "capacity": "connections",
    "fanout": "subscribers",
    "trigger": "subscribers",
    "client-events": "pairs",
    "soketi-ci": "steady",
    "cluster": "subscribers",
}

#: Columns of the summary table, per scenario: (metric, heading).
HEADLINES: dict[str, tuple[tuple[str, str], ...]] = {
    "capacity": (
        ("connected", "connected"),
        ("failed", "failed"),
        ("time_to_all_subscribed_s", "all subscribed s"),
        ("subscribe_rate_per_s", "subscribes/s"),
        ("server_rss_per_connection_kb", "RSS KiB/conn"),
        ("server_cpu_s", "server CPU s"),
        ("generator_cpu_s", "gen CPU s"),
    ),
    "fanout": (
        ("deliveries_per_s", "deliveries/s"),
        ("latency_p50_ms", "p50 ms"),
        ("latency_p95_ms", "p95 ms"),
        ("latency_p99_ms", "p99 ms"),
        ("latency_max_ms", "max ms"),
        ("lost", "lost"),
        ("out_of_order", "out of order"),
        ("server_cpu_pct", "server CPU %"),
        ("server_cpu_us_per_delivery", "server µs/delivery"),
        ("generator_cpu_pct", "gen CPU %"),
        ("generator_cpu_us_per_delivery", "gen µs/delivery"),
    ),
    "trigger": (
        ("clients", "clients"),
        ("requests_per_s", "requests/s"),
        ("request_p50_ms", "p50 ms"),
        ("request_p99_ms", "p99 ms"),
        ("lost", "lost"),
        ("server_cpu_pct", "server CPU %"),
        ("server_cpu_us_per_request", "server µs/request"),
        ("generator_cpu_pct", "gen CPU %"),
    ),
    "client-events": (
        ("round_trips_per_s", "round trips/s"),
        ("rtt_p50_ms", "p50 ms"),
        ("rtt_p95_ms", "p95 ms"),
        ("rtt_p99_ms", "p99 ms"),
        ("round_trips_lost", "lost"),
        ("server_cpu_pct", "server CPU %"),
        ("generator_cpu_pct", "gen CPU %"),
    ),
    "cluster": (
        ("nodes", "nodes"),
        ("deliveries_per_s", "deliveries/s"),
        ("single_deliveries_per_s", "1 node deliveries/s"),
        ("latency_p50_ms", "p50 ms"),
        ("latency_p99_ms", "p99 ms"),
        ("single_latency_p99_ms", "1 node p99 ms"),
        ("lost", "lost"),
        ("single_lost", "1 node lost"),
        ("server_cpu_us_per_delivery", "server µs/delivery"),
        ("single_server_cpu_us_per_delivery", "1 node µs/delivery"),
    ),
    "soketi-ci": (
        ("delay_mean_ms", "delay avg ms"),
        ("delay_p95_ms", "delay p95 ms"),
        ("delay_max_ms", "delay max ms"),
        ("reconnects", "reconnects"),
        ("lost", "lost"),
        ("server_cpu_pct", "server CPU %"),
        ("generator_cpu_pct", "gen CPU %"),
    ),
}


def to_json_line(result: Mapping[str, Any]) -> str:
    """Serialise one result as a single JSON line (no newline inside)."""
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


def parse_results(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Read result records from JSON lines, skipping blank lines.

    Raises:
        ValueError: a line that is not JSON, or not a record with ``scenario`` and ``metrics``.
    """
    results = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("scenario"), str)
            or not isinstance(record.get("metrics"), dict)
        ):
            raise ValueError(f"line {number}: not a benchmark record")
        results.append(record)
    return results


def value(result: Mapping[str, Any], name: str) -> Any:
    """A metric, else a parameter, of a result; None when it has neither."""
    metrics = result.get("metrics", {})
    return metrics[name] if name in metrics else result.get("params", {}).get(name)


def format_cell(cell: Any) -> str:
    """Render a number compactly: thousands separators, at most 3 significant decimals."""
    if cell is None:
        return "-"
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        if cell == 0:
            return "0"
        if abs(cell) >= 100:
            return f"{cell:,.0f}"
        return f"{cell:.3g}"
    return str(cell)


def render(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Align a table: first column left, the others right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headings)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [
            first.ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)),
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headings), rule, *(line(r) for r in rows)])


def summary_table(results: Sequence[Mapping[str, Any]]) -> str:
    """One table per scenario present, one row per run, in the order run."""
    blocks = []
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        runs = [r for r in results if r["scenario"] == scenario]
        key = KEY_PARAM.get(scenario, "")
        columns = HEADLINES.get(scenario, ())
        headings = ["target", key, *(heading for _, heading in columns)]
        rows = [
            [
                str(run.get("label", run.get("target", "?"))),
                format_cell(value(run, key)),
                *(format_cell(value(run, name)) for name, _ in columns),
            ]
            for run in runs
        ]
        blocks.append(f"{scenario}\n{render(headings, rows)}")
    return "\n\n".join(blocks)


def ratio_table(table: Mapping[str, Mapping[str, float | None]], a: str, b: str) -> str:
    """Render `benchmarks.stats.ratios` output: medians of A and B and B/A per metric."""
    rows = [
        [
            name,
            format_cell(cells["a"]),
            format_cell(cells["b"]),
            "-" if cells["ratio"] is None else f"{cells['ratio']:.3f}",
        ]
        for name, cells in table.items()
    ]
    return render(["metric (median)", a, b, f"{b}/{a}"], rows)
