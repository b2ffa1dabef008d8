"""Hypothesis strategies for Pusher credentials, ids, channel names and JSON-like data."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

# Text that survives UTF-8 encoding (no lone surrogates), as keys and secrets must.
utf8_text = st.text(st.characters(exclude_categories=("Cs",)))
keys = utf8_text
# HMAC pads short keys with zero bytes, so "k" and "k\0" sign alike: keep NUL out of secrets.
secrets = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"))
socket_ids = st.builds("{}.{}".format, st.integers(0, 10**12), st.integers(0, 10**12))
NAME_CHARS = string.ascii_letters + string.digits + "_-=@,.;"
channel_suffixes = st.text(NAME_CHARS, min_size=1, max_size=40)
private_channels = channel_suffixes.map("private-{}".format)
presence_channels = channel_suffixes.map("presence-{}".format)
encrypted_channels = channel_suffixes.map("private-encrypted-{}".format)
channels = st.one_of(private_channels, presence_channels, encrypted_channels)
master_keys = st.binary(min_size=32, max_size=32)

# JavaScript holds integers exactly only up to 2**53.
SAFE_INTEGER = 2**53 - 1
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-SAFE_INTEGER, SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
# Keys include integer-like strings, which JavaScript orders before the others.
json_keys = st.one_of(st.text(max_size=8), st.integers(0, 2**33).map(str))
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=12,
)
user_ids = st.one_of(st.text(min_size=1, max_size=20), st.integers(0, SAFE_INTEGER))
presence_data = st.fixed_dictionaries({"user_id": user_ids}, optional={"user_info": json_values})
users = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=20)},
    optional={
        "user_info": json_values,
        "watchlist": st.lists(st.text(min_size=1, max_size=20), max_size=5),
    },
)
# Printable ASCII without "&" and "=", so a query string splits back into its pairs.
query_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="&="), max_size=20
)
# The Node SDK looks keys up in an object literal of its reserved names, so the names
# Object.prototype answers for ("__proto__", "constructor") are refused there as reserved too.
RESERVED_QUERY_KEYS = {
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "auth_signature",
    "body_md5",
    "__proto__",
    "constructor",
}
query_keys = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
    lambda k: k not in RESERVED_QUERY_KEYS
)
query_params = st.dictionaries(query_keys, query_values, max_size=4)
