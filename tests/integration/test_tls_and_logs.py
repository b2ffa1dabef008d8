"""TLS (wss:// and https:// with --ssl-certfile/--ssl-keyfile) and what the logs may contain."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import shutil
import ssl
import subprocess

import httpx
import pytest
from websockets.asyncio.client import connect

from pusherd.cli import configure_logging
from pusherd.config import Settings
from pusherd.protocol.app import Webhook
from pusherd.testing import TEST_APP, serve
from tests.integration.helpers import api, subscriber
from tests.integration.receiver import Receiver
from tests.services import skip_or_fail

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        skip_or_fail("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


async def test_tls_serves_wss_and_https(certificate: tuple[str, str]) -> None:
    cert, key = certificate
    trust = ssl.create_default_context(cafile=cert)
    async with serve(ssl_certfile=cert, ssl_keyfile=key) as server:
        base = f"127.0.0.1:{server.port}"
        async with connect(f"wss://{base}/app/{TEST_APP.key}?protocol=7", ssl=trust) as ws:
            established = json.loads(await ws.recv())
            assert established["event"] == "pusher:connection_established"
        async with httpx.AsyncClient(verify=trust) as client:
            assert (await client.get(f"https://{base}/health")).json() == {"ok": True}
            plain = None
            with contextlib.suppress(httpx.HTTPError):
                plain = await client.get(f"http://{base}/health", timeout=2)
            assert plain is None or plain.status_code != 200, "no plain HTTP on a TLS port"


def test_json_log_format_writes_one_object_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(Settings(log_format="json", log_level="info"))
        logging.getLogger("pusherd.hub").info("started on %s", 6001)
        logging.getLogger("pusherd.hub").debug("not shown")
        # httpx would log webhook URLs (and any token in them) at INFO.
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "pusherd.hub"
    assert entry["message"] == "started on 6001"
    assert entry["time"].endswith("Z")


async def test_no_secret_or_payload_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    secret_payload = "payload-that-must-not-be-logged"
    async with Receiver() as receiver:
        receiver.status = lambda n: 500 if n == 0 else 200
        hook = Webhook(url=receiver.url + "?token=hook-token", event_types=("channel_occupied",))
        app = dataclasses.replace(TEST_APP, webhooks=(hook,))
        caplog.set_level(logging.INFO)
        async with serve([app], webhook_retry_initial=0.05) as server:
            client = await subscriber(server, "room")
            response = await api(
                server,
                "POST",
                f"/apps/{app.id}/events",
                {"name": "e", "channel": "room", "data": secret_payload},
            )
            assert response.status_code == 200
            await client.recv_json()
            client.send_json({"event": "client-x", "channel": "room", "data": secret_payload})
            await client.recv_json()
            bad = await api(
                server,
                "POST",
                f"/apps/{app.id}/events",
                {"name": "e", "channel": "room", "data": "x" * 20000},
            )
            assert bad.status_code == 413
            await receiver.wait(lambda r: len(r.delivered) == 1)
            await client.close()
    # The server's own loggers; httpx's are set to WARNING by configure_logging (tested above).
    shown = [
        r for r in caplog.records if r.levelno > logging.DEBUG and r.name.startswith("pusherd")
    ]
    assert shown, "start, connections and the webhook retry are logged"
    text = "\n".join(r.getMessage() for r in shown)
    for forbidden in (str(app.secret), secret_payload, "hook-token", "auth_signature", "x" * 100):
        assert forbidden not in text
