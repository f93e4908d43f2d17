"""The JSON parser of the API: DRF's, with two rules of its own.

- Nesting deeper than ``remag.jsonlimits.MAX_JSON_DEPTH`` is a 400, checked before the
  decoder recurses (5,000 nested arrays would otherwise raise ``RecursionError``).
- PostgreSQL cannot store the NUL character in text or JSON columns; a string carrying
  one would fail deep in a write with a server error. Every string in a JSON body (keys
  included) is checked here instead, and the field is named in a 400 problem document.
"""

import json
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from remag.jsonlimits import JSONTooDeep, json_depth_check

NUL = "\x00"
MESSAGE = "Text must not contain the NUL character (\\u0000)."

Path = tuple[str | int, ...]


def find_nul(value: Any, path: Path = ()) -> Path | None:
    """The path of the first string (or key) in ``value`` holding a NUL, or None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = (*path, str(key).replace(NUL, "\\u0000"))
            if NUL in str(key):
                return child
            found = find_nul(item, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, (*path, index))
            if found is not None:
                return found
    return None


def _nested(path: Path, message: str) -> Any:
    detail: Any = [message]
    for part in reversed(path):
        detail = {part: detail}
    return detail


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        try:
            json_depth_check(text)
            parse_constant = strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except JSONTooDeep as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        path = find_nul(data)
        if path is not None:
            raise exceptions.ValidationError(_nested(path, MESSAGE) if path else [MESSAGE])
        return data
