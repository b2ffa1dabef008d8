"""Webhook targets from PUSHERD_APP_WEBHOOKS and the config file (WEBHOOKS.md §5)."""

from __future__ import annotations

import json

import pytest

from pusherd.config import ConfigError, load
from pusherd.protocol.app import Webhook

BASE = {"PUSHERD_APP_ID": "1", "PUSHERD_APP_KEY": "k", "PUSHERD_APP_SECRET": "s"}


def hooks(value: object) -> tuple[Webhook, ...]:
    settings = load(env={**BASE, "PUSHERD_APP_WEBHOOKS": json.dumps(value)})
    return settings.apps[0].webhooks


def test_a_target_with_filters_and_headers_is_parsed() -> None:
    [hook] = hooks(
        [
            {
                "url": "https://a.example/hook",
                "event_types": ["channel_occupied", "client_event"],
                "filter": {"channel_name_starts_with": "private-", "channel_name_ends_with": "-eu"},
                "headers": {"X-Env": "prod"},
            }
        ]
    )
    assert hook == Webhook(
        url="https://a.example/hook",
        event_types=("channel_occupied", "client_event"),
        filter_prefix="private-",
        filter_suffix="-eu",
        headers=(("X-Env", "prod"),),
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([{"url": "ftp://a/hook", "event_types": []}], "must start with http:// or https://"),
        (
            [{"url": "http://a/hook", "event_types": ["channel_created"]}],
            "unknown webhook event types",
        ),
        (
            [{"url": "http://a/hook", "event_types": [], "filter": "private-"}],
            "filter must be an object",
        ),
        ({"url": "http://a/hook"}, "expected a list"),
    ],
)
def test_bad_targets_are_refused_with_the_reason(value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        hooks(value)
    assert problem in str(raised.value)


def test_webhook_settings_come_from_the_environment() -> None:
    settings = load(env={"PUSHERD_WEBHOOK_DELAY": "0.5", "PUSHERD_WEBHOOK_RETRY_WINDOW": "60"})
    assert (settings.webhook_delay, settings.webhook_retry_window) == (0.5, 60.0)
