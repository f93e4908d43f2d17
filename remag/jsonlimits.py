"""JSON with a nesting limit, for every place that parses JSON from outside.

Python's ``json`` decoder recurses once per nested array or object: a 10 KB body of
5,000 nested arrays raises ``RecursionError`` (a server error) instead of a decoding
error. ``loads_limited`` measures the nesting of the text first, with a flat scan that
skips string contents, and refuses anything deeper than ``MAX_JSON_DEPTH`` before the
decoder runs. No real document of this service nests anywhere near the limit.

This module imports nothing from Django or the API layer, so services (imports) and the
API parser share it.
"""

import json
import math
import re
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "JSONTooDeep",
    "NumberOutOfRange",
    "finite_float",
    "json_depth_check",
    "loads_limited",
    "no_constant",
]

MAX_JSON_DEPTH: int = 32
"""Most arrays and objects nested in one another in a JSON document (``[]`` is 1)."""

# A complete string (escapes included), an unterminated one, or a bracket. Strings are
# matched whole so the brackets inside them are not counted.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset("[{")
_CLOSE = frozenset("]}")


class JSONTooDeep(ValueError):  # noqa: N818 (the name says what is wrong, like JSONDecodeError)
    """The document nests arrays and objects deeper than the limit."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        super().__init__(f"JSON nests arrays and objects deeper than {limit} levels.")


def json_depth_check(text: str, *, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ``JSONTooDeep`` when ``text`` nests deeper than ``limit``.

    Iterative, linear in the text, no recursion. Malformed text is not judged here
    (the decoder reports it); an unterminated string ends the scan.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        found = match.group()
        if found in _OPEN:
            depth += 1
            if depth > limit:
                raise JSONTooDeep(limit)
        elif found in _CLOSE:
            depth -= 1
        elif len(found) == 1:  # an unterminated string: the rest is its contents
            return


class NumberOutOfRange(ValueError):  # noqa: N818 (named for what is wrong)
    """A JSON number no float holds (``1e400``), or the literals ``NaN``/``Infinity``."""


def finite_float(text: str) -> float:
    """``parse_float`` for ``json.loads``: a number with a fraction or exponent, refused
    when it overflows a float (Python would read infinity, and a text field store "inf")."""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise NumberOutOfRange(f"the number {text[:40]} is out of range")
    return value


def no_constant(text: str) -> float:
    """``parse_constant`` for ``json.loads``: ``NaN`` and ``Infinity`` are not JSON."""
    raise NumberOutOfRange(f"{text} is not a JSON number")


def loads_limited(text: str, *, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses nesting beyond ``limit`` before decoding, and numbers
    no float holds (``finite_float``, ``no_constant``) as the API's parser does.

    Raises ``JSONTooDeep`` (a ``ValueError``) for too deep a document and
    ``json.JSONDecodeError`` for malformed JSON: for a number out of range too, and for an
    integer of more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300
    by default), for which the decoder raises a plain ``ValueError``.
    """
    json_depth_check(text, limit=limit)
    try:
        return json.loads(text, parse_float=finite_float, parse_constant=no_constant)
    except json.JSONDecodeError:
        raise
    except NumberOutOfRange as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from exc
    except ValueError as exc:
        raise json.JSONDecodeError("an integer has too many digits", text, 0) from exc
