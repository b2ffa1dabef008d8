import argparse

import pytest

from benchmarks import cli
from benchmarks.__main__ import main, parser
from benchmarks.scenarios import split


def parse(*argv):
    return parser().parse_args(["run", *argv])


def test_defaults_come_from_the_scenario():
    runs = list(cli.scenario_runs("fanout", parse("fanout")))
    assert runs == [
        {
            "subscribers": 1000,
            "events": 200,
            "event_rate": 20.0,
            "channels": 1,
            "padding": 0,
            "drain": 5.0,
        }
    ]


def test_list_options_expand_into_one_run_each():
    runs = list(
        cli.scenario_runs(
            "trigger", parse("trigger", "--subscribers", "0,50,100", "--clients", "4")
        )
    )
    assert [r["subscribers"] for r in runs] == [0, 50, 100]
    assert {r["clients"] for r in runs} == {4}


def test_hold_is_seconds_for_capacity_and_a_range_for_churn():
    [capacity] = cli.scenario_runs("capacity", parse("capacity", "--hold", "3"))
    [churn] = cli.scenario_runs("soketi-ci", parse("soketi-ci", "--hold", "2,4"))
    assert capacity["hold"] == 3.0
    assert churn["hold"] == (2.0, 4.0)


@pytest.mark.parametrize("text", ["", "a", "1,-2"])
def test_bad_integer_lists_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        cli.int_list(text)


@pytest.mark.parametrize("text", ["1", "5,1", "0,1", "x,y"])
def test_bad_hold_ranges_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        cli.hold_range(text)


def test_unknown_client_libraries_are_refused():
    with pytest.raises(SystemExit, match="unknown --client"):
        cli.libraries(parse("fanout", "--client", "picows,curl"))
    assert cli.libraries(parse("fanout", "--client", "websockets,aiohttp")) == [
        "websockets",
        "aiohttp",
    ]


def test_a_remote_target_stops_the_run_before_any_connection(capsys):
    assert main(["run", "fanout", "--target", "203.0.113.9:6001"]) == 2
    assert "refusing non-loopback target '203.0.113.9'" in capsys.readouterr().err


def test_compare_refuses_a_remote_candidate(capsys):
    status = main(
        ["compare", "--a", "127.0.0.1:6001", "--b", "198.51.100.1:6001", "--scenario", "fanout"]
    )
    assert status == 2
    assert "refusing non-loopback" in capsys.readouterr().err


@pytest.mark.parametrize(("total", "parts"), [(10, 3), (2, 4), (0, 2), (1000, 1), (7, 0)])
def test_work_is_split_in_near_equal_shares(total, parts):
    shares = split(total, parts)
    assert sum(shares) == total
    assert len(shares) == max(parts, 1)
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)
