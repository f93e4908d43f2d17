"""Text PostgreSQL cannot store, found before it reaches a write.

PostgreSQL refuses the NUL character in text and JSON columns, and a lone UTF-16
surrogate (``"\\ud800"`` in JSON decodes to one) cannot be encoded as UTF-8 at all. Either
would fail deep in a write with a server error, and in a bulk import would fail the whole
chunk; found here, it is an error naming the field. Pure Python: services and the API
share it.
"""

from __future__ import annotations

import re
from typing import Any

NUL_MESSAGE = "Text must not contain the NUL character (\\u0000)."
SURROGATE_MESSAGE = "Text must not contain unpaired UTF-16 surrogates (\\ud800 to \\udfff)."

Path = tuple[str | int, ...]

_SURROGATE = re.compile("[\ud800-\udfff]")


def problem_in(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    if _SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def find_unstorable(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """The path of the first string (or key) in ``value`` that cannot be stored, with the
    reason; None when everything can. Iterative, so deep nesting cannot exhaust the stack."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            reason = problem_in(item)
            if reason:
                return where, reason
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                key_text = str(key)
                child_path = (*where, printable(key_text))
                reason = problem_in(key_text)
                if reason:
                    return child_path, reason
                children.append((child, child_path))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, (*where, i)) for i, child in enumerate(item)]))
    return None


def printable(text: str) -> str:
    """``text`` with NULs and lone surrogates written as escapes, safe to store and show."""
    text = text.replace("\x00", "\\u0000")
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
