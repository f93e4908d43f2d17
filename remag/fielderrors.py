"""Field errors as the API reports them: a flat list of ``{field, pointer, message, code}``
built from a validator's nested detail. Pure Python, so the API's exception handler and
the import service (whose row errors name fields the same way) share it.
"""

from typing import Any


def flatten_errors(detail: Any, path: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Turn DRF's nested error detail into a flat list of ``{field, pointer, message, code}``.

    ``non_field_errors`` belong to the object that holds them, so they take its path;
    errors on the request as a whole have ``field: null`` and pointer ``#``.
    """
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            sub = path if key in ("non_field_errors", "__all__") else (*path, key)
            out.extend(flatten_errors(value, sub))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [_error_entry(path, item) for item in detail]
        out = []
        for index, item in enumerate(detail):
            out.extend(flatten_errors(item, (*path, index)))
        return out
    return [_error_entry(path, detail)]


def _error_entry(path: tuple[str | int, ...], message: Any) -> dict[str, Any]:
    return {
        "field": field_path(path),
        "pointer": "#" + "".join(f"/{_escape_pointer(str(p))}" for p in path),
        "message": str(message),
        "code": getattr(message, "code", "invalid"),
    }


def field_path(path: tuple[str | int, ...]) -> str | None:
    if not path:
        return None
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
