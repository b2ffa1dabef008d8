"""One command: pusherd and the helpdesk together, on embedded defaults, with demo data.

python -m examples.helpdesk            # start everything
python -m examples.helpdesk migrate    # only apply the migrations
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

import uvicorn

from examples.helpdesk.app import MissingAssets, create_app, vendor_files
from examples.helpdesk.config import Settings
from examples.helpdesk.db import create_engine, migrate, sessionmaker, utcnow
from examples.helpdesk.embedded_pusherd import embedded_pusherd
from examples.helpdesk.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.helpdesk",
        description="Start pusherd and the helpdesk together (settings: HELPDESK_* env vars).",
    )
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    parser.add_argument("--host", default=os.environ.get("HELPDESK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HELPDESK_PORT", "8000")))
    parser.add_argument(
        "--no-pusherd",
        action="store_true",
        help="publish to an already running pusherd instead of starting one",
    )
    parser.add_argument("--no-demo", action="store_true", help="do not add the demo data")
    return parser.parse_args(argv)


async def prepare(settings: Settings, *, demo: bool) -> bool:
    """Apply migrations and, on an empty database, add the demo data."""
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        if not demo:
            return False
        async with sessionmaker(engine).begin() as session:
            return await seed_demo(session, utcnow())
    finally:
        await engine.dispose()


def banner(settings: Settings, host: str, port: int, pusherd: bool) -> str:
    pusher = settings.pusher
    lines = [
        "",
        f"  helpdesk   http://{host}:{port}/",
        f"  reports    http://{host}:{port}/#/reports   (JSON: /api/reports, CSV: /api/reports.csv)",
        f"  pusherd    ws://{pusher.host}:{pusher.port}/app/{pusher.key}"
        + ("" if pusherd else "   (external)"),
        f"  database   {settings.database_url}",
        "",
        f"  demo accounts (password: {DEMO_PASSWORD})",
    ]
    lines += [f"    {role:<7} {email:<22} {name}" for email, name, role in DEMO_USERS]
    return "\n".join(lines) + "\n"


async def serve(settings: Settings, host: str, port: int, *, pusherd: bool, demo: bool) -> None:
    await prepare(settings, demo=demo)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    if not pusherd:
        print(banner(settings, host, port, False), flush=True)
        await server.serve()
        return
    async with embedded_pusherd(settings.pusher):
        print(banner(settings, host, port, True), flush=True)
        await server.serve()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env()
    if args.command == "migrate":
        asyncio.run(prepare(settings, demo=False))
        print(f"migrated {settings.database_url}")
        return 0
    try:
        vendor_files()
    except MissingAssets as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        return 2
    asyncio.run(
        serve(settings, args.host, args.port, pusherd=not args.no_pusherd, demo=not args.no_demo)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
