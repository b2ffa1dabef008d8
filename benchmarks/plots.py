"""PNG plots of results: latency distributions and throughput against subscribers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: For each scenario with a throughput figure: (x parameter, y metric, axis label).
THROUGHPUT = {
    "fanout": ("subscribers", "deliveries_per_s", "deliveries / s"),
    "trigger": ("subscribers", "requests_per_s", "API requests / s"),
}


def latency_series(result: Mapping[str, Any]) -> tuple[str, list[tuple[float, float]]] | None:
    """Return the result's latency CDF as ``(metric prefix, [(percentile, ms)])``, if it has one."""
    for name, points in result.get("metrics", {}).items():
        if name.endswith("_cdf_ms") and points:
            return name.removesuffix("_cdf_ms"), [(float(q), float(ms)) for q, ms in points]
    return None


def throughput_series(
    results: Sequence[Mapping[str, Any]], scenario: str
) -> dict[str, list[tuple[float, float]]]:
    """Group a scenario's runs by target label into sorted ``(x, y)`` points for `THROUGHPUT`."""
    x_name, y_name, _ = THROUGHPUT[scenario]
    series: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        if result.get("scenario") != scenario:
            continue
        x = result.get("params", {}).get(x_name)
        y = result.get("metrics", {}).get(y_name)
        if isinstance(x, int | float) and isinstance(y, int | float):
            series.setdefault(str(result.get("label", "?")), []).append((float(x), float(y)))
    return {label: sorted(points) for label, points in series.items()}


def write_plots(results: Sequence[Mapping[str, Any]], directory: Path) -> list[Path]:
    """Draw ``latency.png`` and ``throughput.png`` into ``directory``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    from matplotlib import pyplot

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    curves = [(r, latency_series(r)) for r in results]
    curves = [(r, s) for r, s in curves if s is not None]
    if curves:
        figure, axes = pyplot.subplots(figsize=(8, 5))
        for result, (prefix, points) in curves:  # type: ignore[misc]
            key = next(iter(result.get("params", {}).values()), "")
            label = f"{result.get('label')} {result['scenario']} {key} ({prefix})"
            axes.plot([ms for _, ms in points], [q for q, _ in points], marker=".", label=label)
        axes.set_xscale("log")
        axes.set_xlabel("latency (ms, log scale)")
        axes.set_ylabel("percentile")
        axes.set_title("Latency distribution")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize="small")
        path = directory / "latency.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        pyplot.close(figure)
        written.append(path)
    panels = [(s, throughput_series(results, s)) for s in THROUGHPUT]
    panels = [(s, series) for s, series in panels if series]
    if panels:
        figure, axes_list = pyplot.subplots(1, len(panels), figsize=(6 * len(panels), 4.5))
        for axes, (scenario, series) in zip(
            axes_list if len(panels) > 1 else [axes_list], panels, strict=True
        ):
            for label, points in series.items():
                axes.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
            axes.set_xlabel("subscribers")
            axes.set_ylabel(THROUGHPUT[scenario][2])
            axes.set_title(f"{scenario}: throughput vs subscribers")
            axes.grid(True, alpha=0.3)
            axes.legend(fontsize="small")
        path = directory / "throughput.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        pyplot.close(figure)
        written.append(path)
    return written
