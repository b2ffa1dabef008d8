import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client_auth.serialize import stringify
from tests.unit.client_auth.strategies import SAFE_INTEGER, json_values

# Each right-hand side is what JSON.stringify prints in Node for the same value.
CASES = [
    (None, "null"),
    (True, "true"),
    ([False, 0, -1], "[false,0,-1]"),
    (1.0, "1"),
    (-0.0, "0"),
    (0.1, "0.1"),
    (123.456, "123.456"),
    (1e16, "10000000000000000"),
    (1e21, "1e+21"),
    (1.5e300, "1.5e+300"),
    (0.000001, "0.000001"),
    (1.5e-7, "1.5e-7"),
    (5e-324, "5e-324"),
    (10**21, "1e+21"),
    (2**70, "1.1805916207174113e+21"),
    (math.nan, "null"),
    (-math.inf, "null"),
    ("", '""'),
    ('q"b\\s/', '"q\\"b\\\\s/"'),
    ("\b\f\n\r\t\x00\x1f\x7f", '"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f"'),
    ("é😀\u2028", '"é😀\u2028"'),
    ("\ud800x\udfff", '"\\ud800x\\udfff"'),
    ("\ud83d\ude00", '"😀"'),
    ({}, "{}"),
    ([], "[]"),
    ((1, "a"), '[1,"a"]'),
    ({"b": 1, "10": 2, "2": 3, "a": 4}, '{"2":3,"10":2,"b":1,"a":4}'),
    (
        {"01": 1, "-1": 2, "4294967295": 3, "4294967294": 4},
        '{"4294967294":4,"01":1,"-1":2,"4294967295":3}',
    ),
    ({5: "int key", "x": [None]}, '{"5":"int key","x":[null]}'),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_stringify_writes_what_json_stringify_writes(value, expected):
    assert stringify(value) == expected


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), {(1, 2): 3}, {True: 1}])
def test_values_json_cannot_hold_are_refused(value):
    with pytest.raises(TypeError):
        stringify(value)


def test_a_circular_structure_is_refused():
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="circular"):
        stringify(looped)


def test_a_value_repeated_without_a_cycle_is_written_each_time():
    shared = {"a": 1}
    assert stringify([shared, shared]) == '[{"a":1},{"a":1}]'


@given(json_values)
def test_stringify_output_parses_back_to_the_same_value(value):
    assert json.loads(stringify(value), parse_int=float) == json.loads(
        json.dumps(value), parse_int=float
    )


# No digits, so no key is integer-like; no surrogates, which json.dumps writes unescaped.
word_keys = st.text(st.characters(exclude_categories=("Cs", "Nd")))
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE_INTEGER, SAFE_INTEGER) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(word_keys, inner, max_size=4),
    max_leaves=12,
)


@given(plain_values)
def test_without_floats_or_integer_like_keys_stringify_is_compact_json_dumps(value):
    assert stringify(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
