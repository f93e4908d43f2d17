"""The JSON parser of the API: DRF's, with four rules of its own.

- JSON is UTF-8 (RFC 8259 section 8.1). A ``charset`` parameter other than UTF-8 (any
  spelling) is refused with 415 rather than decoding the body as something else and
  storing mojibake; invalid UTF-8 is a 400.
- Nesting deeper than ``remag.jsonlimits.MAX_JSON_DEPTH`` is a 400, checked before the
  decoder recurses (5,000 nested arrays would otherwise raise ``RecursionError``).
- PostgreSQL cannot store the NUL character in text or JSON columns, and an unpaired
  UTF-16 surrogate (``"\\ud800"`` decodes to one) cannot be encoded at all; either would
  fail deep in a write with a server error. Every string in a JSON body (keys included)
  is checked here instead (``remag.storable``), and the field is named in a 400.
- A number too large for a float (``1e400``) is a 400: Python reads it as infinity,
  which no field of the API accepts, and a text field would store "inf". (DRF already
  refuses the literals ``NaN`` and ``Infinity``.)
"""

import codecs
import json
from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from remag.jsonlimits import JSONTooDeep, finite_float, json_depth_check
from remag.storable import find_unstorable

Path = tuple[str | int, ...]


def _nested(path: Path, message: str) -> Any:
    detail: Any = [message]
    for part in reversed(path):
        detail = {part: detail}
    return detail


def is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        _, params = parse_header_parameters(media_type or "")
        charset = params.get("charset")
        if charset is not None and not is_utf8(charset):
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"JSON must be encoded in UTF-8, not {charset!r} "
                "(send `Content-Type: application/json`).",
            )
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - the body is not UTF-8: {exc}") from exc
        try:
            json_depth_check(text)
            parse_constant = strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant, parse_float=finite_float)
        except JSONTooDeep as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        unstorable = find_unstorable(data)
        if unstorable is not None:
            path, message = unstorable
            raise exceptions.ValidationError(_nested(path, message) if path else [message])
        return data
