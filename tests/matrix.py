"""Permission matrices: every endpoint of an app x every role, as one table per app.

An app's test module lists its endpoints (the schema's method and path template, the
context values that fill the path, a body) and, for each, the status every role gets.
:func:`matrix_cases` turns the table into one test case per cell (it refuses a row that
leaves a role out), :func:`call` makes the request and checks the status (and that a
refusal is a problem document), and :func:`assert_covers` fails when the schema has an
endpoint under the app's paths that the table forgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Endpoint:
    method: str  # GET, POST, ...
    path: str  # the schema's template: /api/v1/requests/{id}/publish/
    expected: Mapping[str, int]  # role -> status
    path_values: Mapping[str, str] = field(default_factory=lambda: {"id": "id"})
    body: Mapping[str, Any] | None = None
    format: str = "json"  # or "multipart" (a file in the body is rewound for each call)

    def url(self, context: Mapping[str, Any]) -> str:
        return self.path.format(
            **{name: context[key] for name, key in self.path_values.items() if name in self.path}
        )


def matrix_cases(endpoints: Mapping[str, Endpoint], roles: Iterable[str]) -> list[Any]:
    """One ``pytest.param(name, role, status)`` per cell of the table."""
    roles = tuple(roles)
    cases = []
    for name, endpoint in endpoints.items():
        missing = set(roles) - set(endpoint.expected)
        extra = set(endpoint.expected) - set(roles)
        if missing or extra:
            raise AssertionError(
                f"{name}: roles missing {missing or '{}'}, unknown {extra or '{}'}"
            )
        for role in roles:
            status = endpoint.expected[role]
            cases.append(pytest.param(name, role, status, id=f"{name}-{role}-{status}"))
    return cases


def call(client: Any, endpoint: Endpoint, context: Mapping[str, Any], status: int) -> Any:
    url = endpoint.url(context)
    method = getattr(client, endpoint.method.lower())
    body = dict(endpoint.body) if endpoint.body is not None else None
    for value in (body or {}).values():
        if hasattr(value, "seek"):
            value.seek(0)
    response = method(url, body, format=endpoint.format) if body is not None else method(url)
    assert response.status_code == status, (endpoint.method, url, response.content[:400])
    if status >= 400:
        assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    return response


@cache
def _schema_operations() -> frozenset[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    methods = {"get", "post", "put", "patch", "delete"}
    return frozenset(
        (method.upper(), path) for path, ops in paths.items() for method in ops if method in methods
    )


def assert_covers(
    endpoints: Mapping[str, Endpoint], *path_prefixes: str, elsewhere: tuple[str, ...] = ()
) -> None:
    """Every schema operation under ``path_prefixes`` has a row in the table (but those
    under ``elsewhere``, in another app's matrix)."""
    wanted = {
        (method, path)
        for method, path in _schema_operations()
        if path.startswith(path_prefixes) and not (elsewhere and path.startswith(elsewhere))
    }
    listed = {(e.method, e.path) for e in endpoints.values()}
    assert wanted - listed == set(), f"endpoints without a row: {sorted(wanted - listed)}"
    assert listed - wanted == set(), f"rows for no endpoint: {sorted(listed - wanted)}"
