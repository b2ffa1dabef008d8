from hypothesis import given
from hypothesis import strategies as st

from client_auth.webhooks import sign_webhook, verify_webhook
from tests.unit.client_auth.credentials import KEY, SECRET
from tests.unit.client_auth.strategies import keys, secrets

BODY = b'{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"test_channel"}]}'
SIGNATURE = "709fdb84c03664445f7698120b0edf0acc1ab1c8c6e93a0368c61841d6b998aa"


def test_signing_the_worked_example_body_gives_its_signature():
    assert sign_webhook(SECRET, BODY) == SIGNATURE


def test_the_worked_example_verifies_with_its_key_and_signature():
    assert verify_webhook(KEY, SECRET, KEY, SIGNATURE, BODY)


def test_a_webhook_with_another_or_no_key_header_is_refused():
    assert not verify_webhook(KEY, SECRET, "someone-else", SIGNATURE, BODY)
    assert not verify_webhook(KEY, SECRET, None, SIGNATURE, BODY)


def test_a_webhook_without_a_signature_is_refused():
    assert not verify_webhook(KEY, SECRET, KEY, None, BODY)
    assert not verify_webhook(KEY, SECRET, KEY, "", BODY)


def test_a_re_serialised_body_no_longer_verifies():
    assert not verify_webhook(KEY, SECRET, KEY, SIGNATURE, BODY.replace(b",", b", "))


@given(keys, secrets, st.binary())
def test_a_signed_webhook_verifies(key, secret, body):
    assert verify_webhook(key, secret, key, sign_webhook(secret, body), body)


@given(keys, secrets, st.binary(), st.binary())
def test_a_webhook_signature_does_not_verify_another_body(key, secret, body, other):
    if other == body:
        other += b"\n"
    assert not verify_webhook(key, secret, key, sign_webhook(secret, body), other)


@given(keys, secrets, secrets, st.binary())
def test_a_webhook_signed_with_another_secret_is_refused(key, secret, other, body):
    if other == secret:
        other += "x"
    assert not verify_webhook(key, secret, key, sign_webhook(other, body), body)


@given(keys, keys, secrets, st.binary())
def test_a_webhook_naming_another_key_is_refused(key, other, secret, body):
    if other == key:
        other += "x"
    assert not verify_webhook(key, secret, other, sign_webhook(secret, body), body)
