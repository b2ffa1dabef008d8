import os
import resource
import subprocess
import sys

import pytest

from benchmarks.procstat import ProcessProbe, Sample, raise_fd_limit, usage


def test_usage_reports_cpu_seconds_share_of_a_core_and_memory():
    before = Sample(at=10.0, cpu_s=1.0, rss_bytes=0)
    after = Sample(at=12.0, cpu_s=2.5, rss_bytes=300 * 2**20)
    assert usage(before, after, "server") == {
        "server_cpu_s": 1.5,
        "server_cpu_pct": 75.0,
        "server_rss_mb": 300.0,
    }


def test_usage_of_an_instant_is_zero_percent():
    sample = Sample(at=1.0, cpu_s=1.0, rss_bytes=1)
    assert usage(sample, sample, "x")["x_cpu_pct"] == 0.0


def test_probe_sees_this_process_burn_cpu():
    probe = ProcessProbe(os.getpid())
    before = probe.sample()
    deadline = before.cpu_s + 0.05
    total = 0
    while probe.sample().cpu_s < deadline:
        total += sum(range(10_000))
    after = probe.sample()
    assert after.cpu_s - before.cpu_s >= 0.05 - 1e-9  # clock ticks are 10 ms: float sums
    assert after.rss_bytes > 10 * 2**20


def test_fd_soft_limit_is_raised_to_the_hard_limit():
    hard = raise_fd_limit()
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)


def test_a_pid_with_no_process_is_a_lookup_error():
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    gone = int(child.stdout)
    with pytest.raises(ProcessLookupError, match=f"no server process with PID {gone}"):
        ProcessProbe(gone)
