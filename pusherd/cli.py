"""The ``pusherd`` command: parse options, configure logging, run a node until a signal."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
import textwrap
import time
import typing
from collections.abc import Sequence
from typing import Any

from pusherd import __version__
from pusherd.config import APP_FIELDS, SETTING_FIELDS, ConfigError, Settings, load
from pusherd.node import Node

logger = logging.getLogger("pusherd.hub")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pusherd",
        description=textwrap.fill(
            "A self-hosted, Pusher-compatible channel server: WebSocket (protocol 7) at "
            "/app/{key} and the signed HTTP API at /apps/{id}/..., on one port."
        ),
        epilog=textwrap.fill(
            "Every option can also be set in the environment as PUSHERD_<OPTION> "
            "(e.g. PUSHERD_PORT=6001) or in the TOML file given by --config / PUSHERD_CONFIG. "
            "Precedence: command line, environment, file, defaults. "
            "A single app comes from PUSHERD_APP_ID, PUSHERD_APP_KEY, PUSHERD_APP_SECRET and "
            "PUSHERD_APP_<SETTING> for its other settings ("
            + ", ".join(sorted(n for n in APP_FIELDS if n not in ("id", "key", "secret")))
            + "); several apps from [[apps]] tables in the file. With no app configured, a "
            "development app (id 1, key app-key, secret app-secret) is served."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pusherd {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="TOML configuration file (env PUSHERD_CONFIG)"
    )
    hints = typing.get_type_hints(Settings)
    for name, field in SETTING_FIELDS.items():
        flag = "--" + name.replace("_", "-")
        help_text = field.metadata.get("help", "") + f" [env PUSHERD_{name.upper()}]"
        default = field.default
        if hints[name] is bool:
            parser.add_argument(
                flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            parser.add_argument(
                flag,
                dest=name,
                default=None,
                metavar=name.split("_")[-1].upper(),
                help=help_text + (f" (default: {default})" if default not in (None, "") else ""),
            )
    parser.set_defaults(**{name: None for name in SETTING_FIELDS})
    return parser


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every webhook request's full URL (maybe a token in its query) at INFO.
    quiet = logging.DEBUG if settings.log_level.lower() == "debug" else logging.WARNING
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)


async def run(settings: Settings) -> None:
    node = Node(settings)
    await node.start()
    # Everything loaded so far (modules, classes, configuration) lives as long as the process:
    # leave it out of every later cyclic collection, whose pauses then scale with the
    # connections alone.
    gc.freeze()
    scheme = "wss" if settings.ssl_certfile else "ws"
    http = "https" if settings.ssl_certfile else "http"
    where = f"{settings.host}:{node.port}{settings.path_prefix}"
    apps = ", ".join(f"{app.id} (key {app.key})" for app in settings.apps)
    logger.info(
        "pusherd %s listening on %s://%s/app/{key} and %s://%s/apps/{id}; apps: %s",
        __version__,
        scheme,
        where,
        http,
        where,
        apps,
    )
    if settings.uses_default_app:
        logger.warning(
            "no app configured: serving the development app id=1 key=app-key (secret in README); "
            "set PUSHERD_APP_ID, PUSHERD_APP_KEY and PUSHERD_APP_SECRET for anything else"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    logger.info("draining connections (grace %ss)", settings.timeout_shutdown)
    drain = loop.create_task(node.drain())
    # A second signal during the drain means: stop now.
    stop.clear()
    again = loop.create_task(stop.wait())
    done, _ = await asyncio.wait({drain, again}, return_when=asyncio.FIRST_COMPLETED)
    if drain not in done:
        logger.warning("second signal: stopping without waiting for the drain")
        drain.cancel()
        await node.stop()
    again.cancel()
    logger.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["apps"]:
        from pusherd.appstore.cli import main as apps_main

        return apps_main(argv[1:])
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    config = args.pop("config")
    try:
        settings = load(cli=args, file=config)
    except ConfigError as exc:
        print(f"pusherd: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(settings))
    else:
        uvloop.run(run(settings))
    return 0
