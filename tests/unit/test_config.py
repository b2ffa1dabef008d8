"""Settings from the command line, environment and TOML file, and the errors they report."""

from __future__ import annotations

from pathlib import Path

import pytest

from pusherd.cli import build_parser, main
from pusherd.config import ConfigError, load
from pusherd.protocol.app import Secret, Webhook


def test_nothing_configured_serves_the_development_app() -> None:
    settings = load(env={})
    assert settings.uses_default_app
    (app,) = settings.apps
    assert (app.id, app.key, str(app.secret)) == ("1", "app-key", "app-secret")
    assert app.id.isdigit(), "the PyPI SDK rejects non-numeric app ids"
    assert settings.port == 6001


def test_the_command_line_wins_over_the_environment_which_wins_over_the_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "pusherd.toml"
    config.write_text('port = 7000\nhost = "127.0.0.2"\ntimeout_activity = 60\n')
    settings = load(
        cli={"port": "9000"}, env={"PUSHERD_PORT": "8000", "PUSHERD_HOST": "::1"}, file=str(config)
    )
    assert settings.port == 9000
    assert settings.host == "::1"
    assert settings.timeout_activity == 60


def test_one_app_comes_from_the_environment_with_its_switches() -> None:
    settings = load(
        env={
            "PUSHERD_APP_ID": "42",
            "PUSHERD_APP_KEY": "k",
            "PUSHERD_APP_SECRET": "very-secret-value",
            "PUSHERD_APP_ENABLE_CLIENT_EVENTS": "true",
            "PUSHERD_APP_LIMIT_PRESENCE_MEMBERS": "7",
            "PUSHERD_APP_WEBHOOKS": '[{"url": "http://127.0.0.1:9/hook", "event_types": ["channel_occupied"]}]',
        }
    )
    (app,) = settings.apps
    assert not settings.uses_default_app
    assert app.enable_client_events and app.limit_presence_members == 7
    assert app.secret == Secret("very-secret-value") and "very-secret-value" not in repr(app)
    assert app.webhooks == (Webhook("http://127.0.0.1:9/hook", ("channel_occupied",)),)


def test_several_apps_come_from_the_file(tmp_path: Path) -> None:
    config = tmp_path / "apps.toml"
    config.write_text(
        '[[apps]]\nid = "1"\nkey = "a"\nsecret = "sa"\n\n'
        '[[apps]]\nid = "2"\nkey = "b"\nsecret = "sb"\nenabled = false\n'
        'webhooks = [{url = "http://127.0.0.1:1/w", event_types = ["member_added"], filter = {channel_name_starts_with = "presence-"}}]\n'
    )
    settings = load(env={"PUSHERD_CONFIG": str(config)})
    assert [a.key for a in settings.apps] == ["a", "b"]
    assert settings.apps[1].enabled is False
    assert settings.apps[1].webhooks[0].filter_prefix == "presence-"


def test_every_bad_value_is_listed_at_once(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        'colour = "blue"\n[[apps]]\nid = "1"\nkey = "k"\nlimit_batch_events = "many"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load(cli={"port": "eighty"}, env={"PUSHERD_LOG_FORMAT": "xml"}, file=str(config))
    problems = "\n".join(caught.value.problems)
    for fragment in (
        "unknown setting 'colour'",
        "port: expected an integer",
        "log_format",
        "limit_batch_events",
        "secret is required",
    ):
        assert fragment in problems


def test_two_apps_cannot_share_a_key(tmp_path: Path) -> None:
    config = tmp_path / "dup.toml"
    config.write_text(
        '[[apps]]\nid = "1"\nkey = "k"\nsecret = "s"\n[[apps]]\nid = "2"\nkey = "k"\nsecret = "t"\n'
    )
    with pytest.raises(ConfigError, match="used by another app"):
        load(env={}, file=str(config))


def test_the_help_documents_every_setting_and_its_environment_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--port",
        "--host",
        "--timeout-activity",
        "--ws-write-buffer-bytes",
        "--redis-url",
        "--log-format",
    ):
        assert flag in text
    assert "PUSHERD_APP_ID" in text and "PUSHERD_TIMEOUT_ACTIVITY" in text


def test_a_bad_configuration_exits_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "x"]) == 2
    assert "port: expected an integer" in capsys.readouterr().err
