from benchmarks.plots import latency_series, throughput_series, write_plots
from benchmarks.stats import summarize_ns

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fanout(label, subscribers, deliveries_per_s):
    metrics = {
        "deliveries_per_s": deliveries_per_s,
        **summarize_ns(range(1_000_000, 9_000_000, 1000)),
    }
    return {
        "scenario": "fanout",
        "label": label,
        "params": {"subscribers": subscribers},
        "metrics": metrics,
    }


def test_throughput_series_group_runs_by_target_sorted_by_subscribers():
    results = [fanout("A", 500, 9000.0), fanout("B", 100, 2000.0), fanout("A", 100, 1900.0)]
    assert throughput_series(results, "fanout") == {
        "A": [(100.0, 1900.0), (500.0, 9000.0)],
        "B": [(100.0, 2000.0)],
    }
    assert throughput_series(results, "trigger") == {}


def test_latency_series_reads_the_cdf_kept_in_the_result():
    prefix, points = latency_series(fanout("A", 1, 1.0))
    assert prefix == "latency"
    assert points[0] == (0.0, 1.0)
    assert points[-1][0] == 100.0
    assert latency_series({"metrics": {"latency_count": 0}}) is None


def test_plots_are_written_as_png_files(tmp_path):
    results = [fanout("A", 100, 1900.0), fanout("A", 500, 9000.0), fanout("B", 100, 2000.0)]
    written = write_plots(results, tmp_path / "plots")
    assert [p.name for p in written] == ["latency.png", "throughput.png"]
    for path in written:
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_no_plots_without_plottable_results(tmp_path):
    assert write_plots([{"scenario": "capacity", "metrics": {"connected": 3}}], tmp_path) == []
