import pytest

from benchmarks.report import format_cell, parse_results, ratio_table, summary_table, to_json_line


def fanout_result(label, subscribers, deliveries_per_s, p99):
    return {
        "scenario": "fanout",
        "label": label,
        "params": {"subscribers": subscribers, "events": 10},
        "metrics": {"deliveries_per_s": deliveries_per_s, "latency_p99_ms": p99, "lost": 0},
    }


def test_result_lines_round_trip_through_json_lines():
    results = [fanout_result("A", 100, 2000.0, 5.5), fanout_result("B", 1000, 19000.5, 12.25)]
    text = "\n".join(to_json_line(r) for r in results) + "\n\n"
    assert all("\n" not in to_json_line(r) for r in results)
    assert parse_results(text.splitlines()) == results


def test_parsing_names_the_line_that_is_not_json():
    with pytest.raises(ValueError, match="line 2: not JSON"):
        parse_results([to_json_line(fanout_result("A", 1, 1.0, 1.0)), "{oops"])


@pytest.mark.parametrize(
    "line", ["[]", '{"scenario": "x"}', '{"metrics": {}}', '{"scenario": 1, "metrics": {}}']
)
def test_parsing_refuses_lines_that_are_not_records(line):
    with pytest.raises(ValueError, match="line 1: not a benchmark record"):
        parse_results([line])


def test_summary_table_has_a_row_per_run_under_its_scenario():
    results = [
        fanout_result("soketi", 1000, 19000.0, 12.0),
        {
            "scenario": "trigger",
            "label": "pusherd",
            "params": {"subscribers": 0, "clients": 8},
            "metrics": {"requests_per_s": 5432.1},
        },
        fanout_result("pusherd", 1000, 25000.0, 8.0),
    ]
    table = summary_table(results)
    fanout_block, trigger_block = table.split("\n\n")
    assert fanout_block.splitlines()[0] == "fanout"
    assert "deliveries/s" in fanout_block and "p99 ms" in fanout_block
    rows = fanout_block.splitlines()[3:]
    assert rows[0].split()[:3] == ["soketi", "1,000", "19,000"]
    assert rows[1].split()[:3] == ["pusherd", "1,000", "25,000"]
    assert trigger_block.splitlines()[3].split()[:4] == ["pusherd", "0", "8", "5,432"]


def test_missing_metrics_show_as_dashes():
    table = summary_table([{"scenario": "fanout", "label": "x", "params": {}, "metrics": {}}])
    assert table.splitlines()[-1].split()[1:3] == ["-", "-"]


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, "-"),
        (0.0, "0"),
        (1234567, "1,234,567"),
        (12345.6, "12,346"),
        (3.14159, "3.14"),
        (True, "True"),
        ("x", "x"),
    ],
)
def test_cells_are_formatted_compactly(cell, text):
    assert format_cell(cell) == text


def test_ratio_table_prints_medians_and_b_over_a():
    table = ratio_table(
        {
            "deliveries_per_s": {"a": 1000.0, "b": 1500.0, "ratio": 1.5},
            "lost": {"a": 0.0, "b": 2.0, "ratio": None},
        },
        "soketi",
        "pusherd",
    )
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "(median)", "soketi", "pusherd", "pusherd/soketi"]
    assert lines[2].split() == ["deliveries_per_s", "1,000", "1,500", "1.500"]
    assert lines[3].split() == ["lost", "0", "2", "-"]
