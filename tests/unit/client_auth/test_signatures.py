from hypothesis import given
from hypothesis import strategies as st

from client_auth.signatures import sign, token, verify
from tests.unit.client_auth.credentials import KEY, SECRET
from tests.unit.client_auth.strategies import keys, secrets, utf8_text


def test_sign_gives_the_private_channel_digest_of_the_worked_example():
    assert sign(SECRET, "1234.1234:private-foobar") == (
        "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_sign_treats_text_as_utf8_and_bytes_as_is():
    text = 'presence-é:{"name":"Zoë"}'
    assert sign(SECRET, text) == sign(SECRET, text.encode())


def test_token_prefixes_the_digest_with_the_key():
    assert token(KEY, SECRET, "1234.1234:private-foobar") == (
        f"{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_verify_rejects_an_uppercase_or_truncated_or_empty_signature():
    digest = sign(SECRET, "1234.1234:private-foobar")
    assert verify(SECRET, "1234.1234:private-foobar", digest)
    assert not verify(SECRET, "1234.1234:private-foobar", digest.upper())
    assert not verify(SECRET, "1234.1234:private-foobar", digest[:-1])
    assert not verify(SECRET, "1234.1234:private-foobar", "")


def test_verify_rejects_a_signature_with_non_ascii_text_without_raising():
    assert not verify(SECRET, "x", "é" * 64)


@given(secrets, utf8_text)
def test_a_signature_verifies_for_the_same_secret_and_text(secret, text):
    digest = sign(secret, text)
    assert len(digest) == 64
    assert digest == digest.lower()
    assert verify(secret, text, digest)


@given(secrets, secrets, utf8_text)
def test_a_signature_does_not_verify_under_another_secret(secret, other, text):
    if secret.encode() == other.encode():
        other += "x"
    assert not verify(other, text, sign(secret, text))


@given(secrets, utf8_text, utf8_text)
def test_a_signature_does_not_verify_for_other_text(secret, text, other):
    if other == text:
        other += "x"
    assert not verify(secret, other, sign(secret, text))


@given(keys, secrets, utf8_text, st.integers(0, 63))
def test_changing_any_character_of_a_token_breaks_it(key, secret, text, position):
    digest = token(key, secret, text).rpartition(":")[2]
    flipped = "0" if digest[position] != "0" else "1"
    tampered = digest[:position] + flipped + digest[position + 1 :]
    assert not verify(secret, text, tampered)
