"""``pusherd apps``: add, list, disable, enable, remove apps and rotate their secrets in the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from pusherd.appstore.sql import AppNotFound, SqlApps
from pusherd.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pusherd apps",
        description="Manage the apps kept in the database; a running server picks changes up "
        "within --app-store-refresh seconds.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PUSHERD_APP_STORE_URL"),
        help="sqlite+aiosqlite:///apps.db or postgresql+asyncpg://user@host/db "
        "[env PUSHERD_APP_STORE_URL]",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add an app; prints its credentials")
    add.add_argument("--id", help="app id (default: a random number)")
    add.add_argument("--key", help="app key (default: random)")
    add.add_argument("--secret", help="app secret (default: random)")
    add.add_argument("--name", default="")
    add.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="any app setting, e.g. enable_client_events=true or webhooks='[...]' (JSON values)",
    )
    listing = commands.add_parser("list", help="list apps (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    for name, text in (
        ("disable", "refuse new connections and API calls"),
        ("enable", "accept them again"),
        ("remove", "delete the app"),
    ):
        commands.add_parser(name, help=text).add_argument("id")
    rotate = commands.add_parser("rotate-secret", help="give an app a new secret; prints it")
    rotate.add_argument("id")
    rotate.add_argument("--secret", help="the new secret (default: random)")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run one ``pusherd apps`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    if not args.database_url:
        print("pusherd apps: give --database-url or PUSHERD_APP_STORE_URL", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args))
    except (ConfigError, AppNotFound, IntegrityError, ValueError) as exc:
        print(f"pusherd apps: {_describe(exc)}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace) -> int:
    store = SqlApps(args.database_url)
    try:
        await store.create_schema()
        if args.command == "add":
            settings = dict(_setting(item) for item in args.set)
            app = await store.add(
                args.id or str(secrets.randbelow(9_000_000) + 1_000_000),
                args.key or secrets.token_hex(10),
                args.secret or secrets.token_hex(16),
                args.name,
                **settings,
            )
            print(json.dumps({"id": app.id, "key": app.key, "secret": str(app.secret)}))
        elif args.command == "list":
            rows = [row for _, row in await store.load()]
            _print_rows(rows, as_json=args.json)
        elif args.command in ("disable", "enable"):
            await store.set_enabled(args.id, args.command == "enable")
        elif args.command == "remove":
            await store.remove(args.id)
        elif args.command == "rotate-secret":
            secret = args.secret or secrets.token_hex(16)
            await store.set_secret(args.id, secret)
            print(json.dumps({"id": args.id, "secret": secret}))
    finally:
        await store.close()
    return 0


def _setting(item: str) -> tuple[str, Any]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ValueError(f"--set {item!r}: expected SETTING=VALUE")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def _print_rows(rows: list[dict[str, Any]], *, as_json: bool) -> None:
    shown = [
        {"id": r["id"], "key": r["key"], "name": r["name"], "enabled": bool(r["enabled"])}
        for r in sorted(rows, key=lambda r: r["id"])
    ]
    if as_json:
        for row in shown:
            print(json.dumps(row))
        return
    print(f"{'ID':<12} {'KEY':<24} {'ENABLED':<8} NAME")
    for row in shown:
        print(
            f"{row['id']:<12} {row['key']:<24} {'yes' if row['enabled'] else 'no':<8} {row['name']}"
        )


def _describe(exc: Exception) -> str:
    if isinstance(exc, AppNotFound):
        return f"no app with id {exc.args[0]}"
    if isinstance(exc, IntegrityError):
        return "an app with that id or key exists already"
    return str(exc)
