"""Assembling the Starlette application: API, channel auth, UI, and the background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from client_auth.endpoint import AuthConfig, auth_routes
from examples.helpdesk import api
from examples.helpdesk.auth import channel_rule, member
from examples.helpdesk.config import Settings
from examples.helpdesk.db import create_engine, migrate, sessionmaker, utcnow
from examples.helpdesk.errors import HelpdeskError
from examples.helpdesk.publisher import Publisher
from examples.helpdesk.pusher_api import PusherApi
from examples.helpdesk.tickets import check_sla

logger = logging.getLogger("helpdesk")

WEB = Path(__file__).resolve().parent / "web"
NODE_MODULES = Path(
    os.environ.get("HELPDESK_NODE_MODULES", Path(__file__).resolve().parents[2] / "node_modules")
)
#: browser libraries served from the npm packages installed at setup, never from a CDN
VENDOR = {
    "pusher.min.js": "pusher-js/dist/web/pusher.min.js",
    "echo.iife.js": "laravel-echo/dist/echo.iife.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}


class MissingAssets(RuntimeError):
    """The npm packages the UI serves are not installed."""


def vendor_files(node_modules: Path = NODE_MODULES) -> dict[str, Path]:
    """Return the UI's browser libraries by served name.

    Raises:
        MissingAssets: one is missing, naming the command that installs them.
    """
    files = {name: node_modules / relative for name, relative in VENDOR.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise MissingAssets(
            "the helpdesk UI needs the npm packages pusher-js, laravel-echo and chart.js; "
            "run `npm ci` (or `npm install`) at the repository root. Missing: " + ", ".join(missing)
        )
    return files


async def _sla_loop(app: Starlette) -> None:
    state = app.state
    while True:
        await asyncio.sleep(state.settings.sla_check_interval)
        try:
            async with state.sessions.begin() as session:
                sent = await check_sla(session, state.clock())
            if sent:
                state.publisher.wake()
        except Exception:
            logger.exception("SLA check failed")


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    ui: bool = True,
    background: bool = True,
) -> Starlette:
    """Build the helpdesk application.

    Args:
        settings: database, JWT and pusherd settings.
        clock: the time source of every stored timestamp (tests pass a fixed one).
        ui: serve the browser UI (needs the npm packages; checked here, at startup).
        background: run the outbox publisher and the SLA checker while the app runs.

    Raises:
        MissingAssets: ``ui`` is set and the npm packages are not installed.
    """
    engine = create_engine(settings.database_url)
    sessions = sessionmaker(engine)
    pusher_api = PusherApi(settings.pusher)
    publisher = Publisher(sessions, pusher_api, retry_max=settings.publish_retry_max)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await migrate(engine)
        tasks = []
        if background:
            tasks = [asyncio.create_task(publisher.run()), asyncio.create_task(_sla_loop(app))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await pusher_api.aclose()
            await engine.dispose()

    auth_config = AuthConfig(
        key=settings.pusher.key, secret=settings.pusher.secret, jwt_key=settings.jwt_secret
    )
    routes: list[Route | Mount] = [
        *auth_routes(
            auth_config,
            channel_rule(sessions),
            user=lambda claims: {
                "id": str(claims["sub"]),
                "user_info": member(claims)["user_info"],
            },
        ),
        *api.routes,
    ]
    if ui:
        for name, path in vendor_files().items():
            routes.append(Route(f"/vendor/{name}", _file(path)))
        routes.append(Mount("/static", StaticFiles(directory=WEB / "static")))
        routes.append(Route("/", _file(WEB / "index.html")))
        routes.append(Route("/favicon.ico", _no_content))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HelpdeskError: api.on_error},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.pusher_api = pusher_api
    app.state.publisher = publisher
    app.state.clock = clock
    return app


async def _no_content(_request: object) -> Response:
    return Response(status_code=204)


def _file(path: Path) -> Callable[..., object]:
    async def serve(_request: object) -> Response:
        return FileResponse(path)

    return serve
