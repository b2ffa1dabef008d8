"""App settings: the defaults of LIMITS.md and a secret that never shows."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from pusherd.protocol.app import App, Secret, Webhook


def test_a_secret_is_masked_in_repr_and_revealed_by_str() -> None:
    secret = Secret("s3cret")

    assert repr(secret) == "Secret('**********')"
    assert "s3cret" not in repr(App("1", "k", secret))
    assert str(secret) == "s3cret"


def test_secrets_compare_and_hash_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert hash(Secret("a")) == hash(Secret("a"))


def test_the_defaults_are_the_limits_table() -> None:
    app = App("1", "k", Secret("s"))

    assert app.enabled and not app.ssl_only
    assert not (
        app.enable_client_events
        or app.enable_user_authentication
        or app.enable_subscription_count
        or app.enable_watchlist
    )
    assert app.timeout_authorization is None
    assert app.cache_ttl == 1800.0
    assert app.limit_max_connections is None
    assert app.limit_client_events_per_second == 10
    assert app.limit_event_data_bytes == 10240
    assert app.limit_event_name_length == 200
    assert app.limit_channel_name_length == 200
    assert app.limit_channels_per_trigger == 100
    assert app.limit_batch_events == 10
    assert app.limit_presence_members == 100
    assert app.limit_user_info_bytes == 1024
    assert app.limit_user_id_length == 128
    assert app.limit_watchlist_size == 100
    assert app.limit_api_requests_per_second is None


def test_apps_are_frozen_and_compare_without_extra() -> None:
    app = App("1", "k", Secret("s"), extra={"a": 1})

    with pytest.raises(FrozenInstanceError):
        app.key = "other"  # type: ignore[misc]
    assert app == App("1", "k", Secret("s"))
    assert hash(app) == hash(App("1", "k", Secret("s"), webhooks=()))


def test_a_webhook_defaults_to_no_filter_and_no_headers() -> None:
    hook = Webhook("http://127.0.0.1/hook", ("channel_occupied",))

    assert (hook.filter_prefix, hook.headers) == (None, ())
