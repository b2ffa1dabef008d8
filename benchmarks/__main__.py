"""Entry point: ``python -m benchmarks {run,compare,plot}``, installed as ``pusherd-bench``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import cli, report
from benchmarks.plots import write_plots
from benchmarks.pool import BenchmarkError
from benchmarks.stats import ratios
from benchmarks.target import TargetError


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    top = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Load-test a Pusher-protocol server on loopback (pusherd, soketi...).",
    )
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one scenario against one target")
    run.add_argument("scenario", choices=sorted(cli.SCENARIOS))
    run.add_argument(
        "--target", default="127.0.0.1:6001", help="HOST:PORT[:PID]; PID enables server CPU/RSS"
    )
    run.add_argument("--label", default="", help="name of the target in results")
    cli.add_settings(run)
    cli.add_scenario_options(run)

    compare = commands.add_parser("compare", help="run a scenario on two targets alternately")
    compare.add_argument("--a", required=True, help="baseline HOST:PORT[:PID]")
    compare.add_argument("--b", required=True, help="candidate HOST:PORT[:PID]")
    compare.add_argument("--label-a", default="A")
    compare.add_argument("--label-b", default="B")
    compare.add_argument("--scenario", required=True, choices=sorted(cli.SCENARIOS))
    compare.add_argument("--rounds", type=int, default=3, help="A,B pairs to run (default 3)")
    cli.add_settings(compare)
    cli.add_scenario_options(compare)

    plot = commands.add_parser("plot", help="draw PNGs from saved JSON lines")
    plot.add_argument("results", type=Path, help="a file of result lines")
    plot.add_argument("--out", type=Path, default=Path("."), help="directory for the PNGs")
    return top


class Output:
    """Where results go: stdout as JSON lines, optionally a file, and a list for the tables."""

    def __init__(self, json_path: str | None) -> None:
        self.path = Path(json_path) if json_path else None
        self.results: list[dict[str, Any]] = []

    def emit(self, result: dict[str, Any]) -> None:
        line = report.to_json_line(result)
        print(line, flush=True)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        if "metrics" in result:
            self.results.append(result)


def run(args: argparse.Namespace, output: Output) -> None:
    """Run a scenario once per parameter combination and client library."""
    function, _ = cli.SCENARIOS[args.scenario]
    at = cli.target(args.target, args)
    for library in cli.libraries(args):
        label = args.label or (f"{at.address} {library}" if "," in args.client else "")
        for kwargs in cli.scenario_runs(args.scenario, args):
            output.emit(function(cli.settings(args, at, library, label), **kwargs))


def compare(args: argparse.Namespace, output: Output) -> None:
    """Alternate A and B for ``--rounds`` rounds, then print medians and B/A for every metric.

    Alternating spreads slow drifts of a shared machine over both targets alike. Each
    parameter value (``--connections 1000,5000``) gets all its rounds before the next, so a run
    follows the other target's run of the same size: never the tail of a heavier one (a
    server still closing 5,000 connections while the other opens 1,000).
    """
    function, _ = cli.SCENARIOS[args.scenario]
    sides = [(args.label_a, cli.target(args.a, args)), (args.label_b, cli.target(args.b, args))]
    library = cli.libraries(args)[0]
    runs = list(cli.scenario_runs(args.scenario, args))
    collected: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for index, kwargs in enumerate(runs):
        for round_number in range(max(args.rounds, 1)):
            for label, at in sides:
                result = function(cli.settings(args, at, library, label), **kwargs)
                result["round"] = round_number
                output.emit(result)
                collected.setdefault((index, label), []).append(result["metrics"])
    for index, kwargs in enumerate(runs):
        table = ratios(collected[(index, args.label_a)], collected[(index, args.label_b)])
        table = {name: cells for name, cells in table.items() if not name.endswith("_cdf_ms")}
        output.emit(
            {"scenario": "compare", "compared": args.scenario, "params": kwargs, "ratios": table}
        )
        described = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        print(f"\n{args.scenario} ({described}), {args.rounds} rounds:", file=sys.stderr)
        print(report.ratio_table(table, args.label_a, args.label_b), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = parser().parse_args(argv)
    if args.command == "plot":
        with args.results.open(encoding="utf-8") as file:
            results = report.parse_results(file)
        for path in write_plots(results, args.out):
            print(path)
        return 0
    output = Output(args.json)
    try:
        if args.command == "run":
            run(args, output)
        else:
            compare(args, output)
    except (TargetError, BenchmarkError, ProcessLookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if output.results:
            print("\n" + report.summary_table(output.results), file=sys.stderr)
        if output.results and args.plots:
            for path in write_plots(output.results, Path(args.plots)):
                print(f"plot: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
