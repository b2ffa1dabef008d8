"""JSON text exactly as JavaScript's ``JSON.stringify`` writes it, for byte-identical signatures.

pusher-http-node signs ``JSON.stringify(data)``. ``json.dumps`` differs on numbers (``1.0`` vs
``1``, ``1e16`` vs ``10000000000000000``, ``NaN`` vs ``null``), on lone surrogates and on the
order of integer-like object keys (JavaScript puts ``"2"`` before ``"a"`` whatever the insertion
order). Signing the same presence or user data must give the same token as the Node SDK.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["stringify"]

# ECMA-262 QuoteJSONString: short escapes, \u00xx for other controls, \udxxx for lone surrogates.
# A surrogate pair is one character to JavaScript: it is written as that character.
_ESCAPED = re.compile(r'[\ud800-\udbff][\udc00-\udfff]|["\\\x00-\x1f\ud800-\udfff]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# An "array index" key: a canonical decimal integer below 2**32 - 1.
_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_MAX_INDEX = 2**32 - 2


def stringify(value: Any) -> str:
    """Return ``JSON.stringify(value)`` for a JSON-like Python value.

    Args:
        value: ``None``, ``bool``, ``int``, ``float``, ``str``, a mapping with ``str`` or
            ``int`` keys, or a list or tuple of these.

    Returns:
        The compact JSON text JavaScript would produce for the same value.

    Raises:
        TypeError: a value JSON cannot represent.
        ValueError: a circular reference.
    """
    parts: list[str] = []
    _write(value, parts, set())
    return "".join(parts)


def _write(value: Any, parts: list[str], active: set[int]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_quote(value))
    elif isinstance(value, int):
        parts.append(_number(value))
    elif isinstance(value, float):
        parts.append(_number(value) if math.isfinite(value) else "null")
    elif isinstance(value, Mapping):
        _enter(value, active)
        items = _ordered_items(value)
        parts.append("{")
        for i, (key, item) in enumerate(items):
            if i:
                parts.append(",")
            parts.append(_quote(key))
            parts.append(":")
            _write(item, parts, active)
        parts.append("}")
        active.discard(id(value))
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        _enter(value, active)
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts, active)
        parts.append("]")
        active.discard(id(value))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _enter(container: object, active: set[int]) -> None:
    if id(container) in active:
        raise ValueError("circular reference")
    active.add(id(container))


def _ordered_items(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    # OrdinaryOwnPropertyKeys: array indices ascending, then the other keys in insertion order.
    indices: list[tuple[int, str, Any]] = []
    others: list[tuple[str, Any]] = []
    for key, item in mapping.items():
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise TypeError(f"keys must be str or int, not {type(key).__name__}")
        text = key if isinstance(key, str) else _number(key)
        if _INDEX.fullmatch(text) and int(text) <= _MAX_INDEX:
            indices.append((int(text), text, item))
        else:
            others.append((text, item))
    indices.sort(key=lambda entry: entry[0])
    return [(text, item) for _, text, item in indices] + others


def _quote(text: str) -> str:
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if len(char) == 2:
        return chr(0x10000 + ((ord(char[0]) - 0xD800) << 10) + ord(char[1]) - 0xDC00)
    return _SHORT.get(char) or f"\\u{ord(char):04x}"


def _number(value: int | float) -> str:
    """ECMA-262 Number::toString for a finite number."""
    if isinstance(value, int) and abs(value) < 10**21:
        return str(value)
    if value == 0:
        return "0"  # -0 too
    if value < 0:
        return "-" + _number(-value)
    # repr gives the shortest digits that round-trip, which is what Number::toString uses.
    _, digits, exponent = Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)
    s = "".join(map(str, digits)).rstrip("0")
    exponent += len(digits) - len(s)
    k = len(s)
    n = exponent + k
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
