"""Every scenario, and the command line, against an in-process pusherd with tiny loads.

These check that the suite works end to end, not how fast anything is.
"""

import json

import anyio
import pytest

from benchmarks import scenarios
from benchmarks.__main__ import main
from benchmarks.report import parse_results
from benchmarks.scenarios import Settings
from benchmarks.target import Target
from pusherd.protocol.app import App, Secret
from pusherd.testing import serve

pytestmark = pytest.mark.anyio

APP = App(
    id="bench-app",
    key="bench-key",
    secret=Secret("bench-secret"),
    enable_client_events=True,
)
CREDENTIALS = ["--app-id", APP.id, "--key", APP.key, "--secret", str(APP.secret)]


def settings(server, library="picows"):
    # No PID: the in-process server shares this process, whose children are the workers.
    target = Target(server.host, server.port, APP.id, APP.key, str(APP.secret))
    return Settings(target=target, library=library, workers=2, timeout=10.0, label="pusherd")


async def run(function, *args, **kwargs):
    # Scenarios block on their workers; the server must keep running on this loop meanwhile.
    return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))


@pytest.mark.parametrize("library", ["picows", "websockets", "aiohttp"])
async def test_fanout_delivers_every_event_to_every_subscriber_in_order(library):
    async with serve(apps=[APP]) as server:
        result = await run(
            scenarios.fanout, settings(server, library), 20, events=10, event_rate=50
        )
    metrics = result["metrics"]
    assert result["scenario"] == "fanout" and result["client"] == library
    assert metrics["events_accepted"] == 10
    assert metrics["deliveries"] == metrics["deliveries_expected"] == 200
    assert metrics["lost"] == 0 and metrics["out_of_order"] == 0
    assert metrics["latency_count"] == 200
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p99_ms"] <= metrics["latency_max_ms"]
    assert metrics["deliveries_per_s"] > 0
    assert metrics["generator_cpu_s"] > 0


async def test_capacity_opens_and_subscribes_every_connection():
    async with serve(apps=[APP]) as server:
        result = await run(scenarios.capacity, settings(server), 40, channels=3, hold=0.1)
    metrics = result["metrics"]
    assert metrics["connected"] == 40 and metrics["failed"] == 0
    assert metrics["subscribe_count"] == 40
    assert metrics["time_to_all_subscribed_s"] > 0
    assert metrics["subscribe_rate_per_s"] > 0


@pytest.mark.parametrize("subscribers", [0, 10])
async def test_trigger_counts_accepted_requests_and_their_deliveries(subscribers):
    async with serve(apps=[APP]) as server:
        result = await run(
            scenarios.trigger, settings(server), clients=3, requests=30, subscribers=subscribers
        )
    metrics = result["metrics"]
    assert metrics["requests"] == metrics["accepted"] == 30
    assert metrics["statuses"] == {"200": 30}
    assert metrics["requests_per_s"] > 0
    assert metrics["request_count"] == 30
    assert metrics["deliveries"] == metrics["deliveries_expected"] == 30 * subscribers
    assert metrics["lost"] == 0
    assert metrics["out_of_order"] is None  # three concurrent clients impose no order


async def test_client_events_make_round_trips_between_private_pairs():
    async with serve(apps=[APP]) as server:
        result = await run(
            scenarios.client_events, settings(server), pairs=4, messages=3, pair_rate=5
        )
    metrics = result["metrics"]
    assert metrics["pairs"] == 4 and metrics["pair_failed"] == 0
    assert metrics["rtt_count"] == 12 and metrics["round_trips_lost"] == 0
    assert metrics["rtt_p50_ms"] > 0


async def test_client_events_fail_clearly_when_the_app_forbids_them():
    closed = App(id="closed", key="closed-key", secret=Secret("closed-secret"))
    async with serve(apps=[closed]) as server:
        target = Target(server.host, server.port, closed.id, closed.key, str(closed.secret))
        result = await run(
            scenarios.client_events,
            Settings(target=target, workers=1, timeout=3.0),
            pairs=1,
            messages=2,
            pair_rate=10,
        )
    metrics = result["metrics"]
    assert metrics["rtt_count"] == 0
    assert metrics["round_trips_lost"] == 1  # the first refusal ends the pair's loop
    assert metrics["server_errors"] == 1
    assert "client messaging enabled" in metrics["first_error"]


async def test_soketi_ci_times_events_to_steady_and_churning_clients():
    async with serve(apps=[APP]) as server:
        result = await run(
            scenarios.soketi_ci,
            settings(server),
            steady=6,
            churning=6,
            duration=2.0,
            event_rate=4.0,
            hold=(0.2, 0.4),
        )
    metrics = result["metrics"]
    assert metrics["events_accepted"] == 8
    assert metrics["subscribers"] == 6
    assert metrics["deliveries"] == 48 and metrics["lost"] == 0
    assert metrics["reconnects"] > 0
    assert metrics["delay_count"] >= 48
    assert metrics["delay_mean_ms"] > 0 and metrics["delay_p95_ms"] > 0


async def test_command_line_writes_json_lines_a_table_and_plots(tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    async with serve(apps=[APP]) as server:
        argv = [
            "run", "fanout", "--target", f"{server.host}:{server.port}", *CREDENTIALS,
            "--subscribers", "5,10", "--events", "5", "--rate", "50", "--timeout", "10",
            "--json", str(out), "--plots", str(tmp_path / "plots"),
        ]  # fmt: skip
        status = await run(main, argv)
    captured = capsys.readouterr()
    assert status == 0
    printed = parse_results(captured.out.splitlines())
    assert parse_results(out.read_text().splitlines()) == printed
    assert [r["params"]["subscribers"] for r in printed] == [5, 10]
    assert [r["metrics"]["deliveries"] for r in printed] == [25, 50]
    assert "deliveries/s" in captured.err
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "latency.png",
        "throughput.png",
    ]


async def test_compare_alternates_targets_and_reports_ratios(capsys):
    async with serve(apps=[APP]) as a, serve(apps=[APP]) as b:
        argv = [
            "compare", "--a", f"{a.host}:{a.port}", "--b", f"{b.host}:{b.port}", *CREDENTIALS,
            "--scenario", "trigger", "--rounds", "2", "--subscribers", "0", "--requests", "20",
            "--clients", "2", "--timeout", "10",
        ]  # fmt: skip
        status = await run(main, argv)
    captured = capsys.readouterr()
    assert status == 0
    lines = [json.loads(line) for line in captured.out.splitlines()]
    runs, summary = lines[:-1], lines[-1]
    assert [(r["label"], r["round"]) for r in runs] == [("A", 0), ("B", 0), ("A", 1), ("B", 1)]
    assert summary["scenario"] == "compare" and summary["compared"] == "trigger"
    assert summary["ratios"]["accepted"] == {"a": 20.0, "b": 20.0, "ratio": 1.0}
    assert summary["ratios"]["requests_per_s"]["ratio"] > 0
    assert "B/A" in captured.err


async def test_compare_runs_every_round_of_one_size_before_the_next(capsys):
    async with serve(apps=[APP]) as a, serve(apps=[APP]) as b:
        argv = [
            "compare", "--a", f"{a.host}:{a.port}", "--b", f"{b.host}:{b.port}", *CREDENTIALS,
            "--scenario", "trigger", "--rounds", "2", "--subscribers", "0,2", "--requests", "10",
            "--clients", "1", "--timeout", "10",
        ]  # fmt: skip
        status = await run(main, argv)
    captured = capsys.readouterr()
    assert status == 0
    lines = [json.loads(line) for line in captured.out.splitlines()]
    runs = [r for r in lines if r["scenario"] == "trigger"]
    assert [(r["params"]["subscribers"], r["label"], r["round"]) for r in runs] == [
        (0, "A", 0), (0, "B", 0), (0, "A", 1), (0, "B", 1),
        (2, "A", 0), (2, "B", 0), (2, "A", 1), (2, "B", 1),
    ]  # fmt: skip
    assert [r["params"]["subscribers"] for r in lines if r["scenario"] == "compare"] == [0, 2]
