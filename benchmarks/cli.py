"""Command-line options: targets, shared settings, and each scenario's parameters with defaults."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from itertools import product
from typing import Any

from benchmarks import cluster, scenarios
from benchmarks.scenarios import Settings
from benchmarks.target import Target, parse_target
from benchmarks.wsclient import LIBRARIES

#: Per scenario: its function and the option defaults it uses (names as in argparse ``dest``).
#: List-valued options expand into one run per value.
SCENARIOS: dict[str, tuple[Callable[..., dict[str, Any]], dict[str, Any]]] = {
    "capacity": (
        scenarios.capacity,
        {"connections": [1000], "channels": 1, "hold": 2.0},
    ),
    "fanout": (
        scenarios.fanout,
        {
            "subscribers": [1000],
            "events": 200,
            "event_rate": 20.0,
            "channels": 1,
            "padding": 0,
            "drain": 5.0,
        },
    ),
    "trigger": (
        scenarios.trigger,
        {"clients": 8, "requests": 2000, "subscribers": [0, 100], "duration": 20.0, "drain": 5.0},
    ),
    "client-events": (
        scenarios.client_events,
        {"pairs": 50, "messages": 20, "pair_rate": 5.0},
    ),
    "soketi-ci": (
        scenarios.soketi_ci,
        {"steady": 250, "churning": 250, "duration": 30.0, "event_rate": 1.0, "hold": (1.0, 5.0)},
    ),
    "cluster": (
        cluster.cluster,
        {
            "subscribers": [1000],
            "nodes": "",
            "events": 200,
            "event_rate": 20.0,
            "padding": 0,
            "drain": 5.0,
        },
    ),
}


def int_list(text: str) -> list[int]:
    """Parse ``1000,5000`` into ``[1000, 5000]``."""
    try:
        values = [int(part) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas: {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected non-negative integers: {text!r}")
    return values


def hold_range(text: str) -> tuple[float, float]:
    """Parse ``1,5`` into ``(1.0, 5.0)``."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds: {text!r}") from None
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"expected 0 < MIN <= MAX: {text!r}")
    return low, high


def add_settings(parser: argparse.ArgumentParser) -> None:
    """Options shared by every scenario, targets aside."""
    group = parser.add_argument_group("app and generator")
    group.add_argument("--app-id", default="app-id", help="app id (default: %(default)s)")
    group.add_argument("--key", default="app-key", help="app key (default: %(default)s)")
    group.add_argument("--secret", default="app-secret", help="app secret (default: %(default)s)")
    group.add_argument(
        "--client", default="picows", help=f"WebSocket client, or a comma list of {LIBRARIES}"
    )
    group.add_argument("--workers", type=int, default=2, help="WebSocket worker processes")
    group.add_argument("--publishers", type=int, default=1, help="HTTP publisher processes")
    group.add_argument("--timeout", type=float, default=30.0, help="bound on any single wait, s")
    group.add_argument("--json", metavar="FILE", help="also append result lines to FILE")
    group.add_argument("--plots", metavar="DIR", help="write latency and throughput PNGs to DIR")


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """Every scenario's parameters; unset ones take the scenario's default from `SCENARIOS`."""
    group = parser.add_argument_group("scenario parameters (defaults depend on the scenario)")
    group.add_argument("--connections", type=int_list, help="capacity: connections, e.g. 1000,5000")
    group.add_argument("--subscribers", type=int_list, help="fanout/trigger: subscribers, list")
    group.add_argument("--channels", type=int, help="capacity/fanout: channels to spread over")
    group.add_argument("--hold", help="capacity: seconds held; soketi-ci: MIN,MAX churn hold")
    group.add_argument("--events", type=int, help="fanout: events to trigger")
    group.add_argument("--rate", dest="event_rate", type=float, help="events per second")
    group.add_argument("--padding", type=int, help="fanout: extra characters per event")
    group.add_argument("--drain", type=float, help="seconds to wait for late deliveries")
    group.add_argument("--clients", type=int, help="trigger: concurrent HTTP clients")
    group.add_argument("--requests", type=int, help="trigger: requests to send")
    group.add_argument("--duration", type=float, help="trigger/soketi-ci: bound or length, s")
    group.add_argument("--pairs", type=int, help="client-events: connection pairs")
    group.add_argument("--messages", type=int, help="client-events: round trips per pair")
    group.add_argument("--pair-rate", type=float, help="client-events: round trips/s per pair")
    group.add_argument("--steady", type=int, help="soketi-ci: steady clients")
    group.add_argument("--churning", type=int, help="soketi-ci: churning clients")
    group.add_argument(
        "--nodes", help="cluster: the cluster's nodes, HOST:PORT[:PID],... (--target: one alone)"
    )


def scenario_runs(scenario: str, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield the keyword arguments of each run: defaults, overridden, lists expanded."""
    _, defaults = SCENARIOS[scenario]
    chosen: dict[str, Any] = {}
    for name, default in defaults.items():
        given = getattr(args, name, None)
        if given is None:
            chosen[name] = default
        elif name == "hold":
            chosen[name] = hold_range(given) if scenario == "soketi-ci" else float(given)
        else:
            chosen[name] = given
    lists = {name: v for name, v in chosen.items() if isinstance(v, list)}
    for combination in product(*lists.values()):
        yield {**chosen, **dict(zip(lists, combination, strict=True))}


def target(text: str, args: argparse.Namespace) -> Target:
    """Parse a ``host:port[:pid]`` option with the shared app credentials."""
    return parse_target(text, app_id=args.app_id, key=args.key, secret=args.secret)


def settings(args: argparse.Namespace, at: Target, library: str, label: str = "") -> Settings:
    """Shared settings from parsed options."""
    return Settings(
        target=at,
        library=library,
        workers=args.workers,
        publishers=args.publishers,
        timeout=args.timeout,
        label=label,
    )


def libraries(args: argparse.Namespace) -> list[str]:
    """The ``--client`` list, checked."""
    names = [name for name in args.client.split(",") if name]
    unknown = [name for name in names if name not in LIBRARIES]
    if unknown or not names:
        raise SystemExit(f"unknown --client {unknown or args.client!r}; choose from {LIBRARIES}")
    return names
