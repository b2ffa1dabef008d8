import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.stats import (
    CDF_QUANTILES,
    Deliveries,
    SequenceTracker,
    median,
    percentile,
    rate,
    ratios,
    summarize_ns,
)


@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=200),
    st.floats(0, 100),
)
def test_percentile_matches_numpys_linear_method(values, q):
    ordered = sorted(values)
    assert percentile(ordered, q) == pytest.approx(numpy.percentile(ordered, q), rel=1e-9, abs=1e-3)


def test_percentile_interpolates_between_neighbours():
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([10, 20, 30, 40], 0) == 10.0
    assert percentile([10, 20, 30, 40], 100) == 40.0
    assert percentile([7], 99) == 7.0


@pytest.mark.parametrize("q", [-0.1, 100.1])
def test_percentile_refuses_out_of_range_quantiles(q):
    with pytest.raises(ValueError, match="out of range"):
        percentile([1, 2], q)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_summary_converts_nanoseconds_to_milliseconds():
    summary = summarize_ns([4_000_000, 1_000_000, 3_000_000, 2_000_000], "latency")
    assert summary["latency_count"] == 4
    assert summary["latency_min_ms"] == 1.0
    assert summary["latency_max_ms"] == 4.0
    assert summary["latency_mean_ms"] == 2.5
    assert summary["latency_p50_ms"] == 2.5
    assert summary["latency_p99_ms"] == pytest.approx(3.97)
    assert [q for q, _ in summary["latency_cdf_ms"]] == list(CDF_QUANTILES)


def test_summary_of_no_samples_is_only_a_zero_count():
    assert summarize_ns([], "rtt") == {"rtt_count": 0}


def test_tracker_counts_events_older_than_one_already_seen_as_out_of_order():
    tracker = SequenceTracker()
    for seq in [0, 1, 3, 2, 4, 1, 5]:
        tracker.record(seq)
    assert tracker.received == 7
    assert tracker.out_of_order == 2
    assert tracker.highest == 5


def test_losses_are_expected_minus_received_and_never_negative():
    assert Deliveries(expected=1000, received=990, out_of_order=0).lost == 10
    assert Deliveries(expected=1000, received=990, out_of_order=0).loss_ratio == 0.01
    assert Deliveries(expected=5, received=7, out_of_order=0).lost == 0
    assert Deliveries(expected=0, received=0, out_of_order=0).loss_ratio == 0.0


def test_rate_of_an_empty_window_is_zero():
    assert rate(100, 2.0) == 50.0
    assert rate(100, 0.0) == 0.0


def test_ratios_compare_medians_of_numeric_metrics_b_over_a():
    a = [{"rps": 100, "p99": 10.0, "ok": True, "cdf": [[50, 1]]}, {"rps": 120, "p99": 30.0}]
    b = [{"rps": 300, "p99": 5.0, "ok": True, "cdf": [[50, 1]]}, {"rps": 200, "p99": 15.0}]
    table = ratios(a, b)
    assert set(table) == {"rps", "p99"}
    assert table["rps"] == {"a": 110.0, "b": 250.0, "ratio": pytest.approx(250 / 110)}
    assert table["p99"]["ratio"] == pytest.approx(0.5)


def test_ratio_against_a_zero_baseline_is_none():
    assert ratios([{"lost": 0}], [{"lost": 3}])["lost"] == {"a": 0.0, "b": 3.0, "ratio": None}


def test_ratios_of_no_runs_are_empty():
    assert ratios([], [{"x": 1}]) == {}
    assert median([3, 1, 2]) == 2
