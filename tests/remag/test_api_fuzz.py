"""Hostile input, generated from the OpenAPI schema (schemathesis): whatever a caller
sends to any operation of the API (deletes aside), the answer is never a server error,
and every error is a problem document. Each operation gets schemathesis' coverage cases
(boundary values and every kind of invalid input: wrong types, out-of-range numbers,
too-long strings, bad formats, missing and unexpected properties...), at most
COVERAGE_EXAMPLES of them (40, or one of each kind if there are more kinds; 0 for all:
some 11,800 over the API's operations), then FUZZ_EXAMPLES generated ones (15).
HYPOTHESIS_PROFILE=explore draws new ones instead of the fixed set."""

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.conftest import shared_copy, shared_rows
from tests.factories import MembershipFactory, OrganizationFactory, UserTokenFactory
from tests.remag.schema_requests import keep_test_connection, schema, without_generated_credentials

__all__ = ["keep_test_connection"]  # a fixture

FUZZED = schema.include(path_regex=r"^/api/v1/").exclude(method=["DELETE"])


@pytest.fixture(scope="module")
def shared_token(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The taxonomy and a caller (a manufacturer's and an operator's member), built once
    for the module (tests/conftest.py's shared_rows); each operation's test runs in its
    own savepoint."""
    from suppliers.taxonomy import taxonomy_load

    with shared_rows(django_db_blocker):
        with django_db_blocker.unblock():
            taxonomy_load()
            user = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
            MembershipFactory(user=user, organization=OrganizationFactory(kind="operator"))
            raw_key = UserTokenFactory(user=user).raw_key
        yield raw_key


@pytest.fixture
def token(
    request: pytest.FixtureRequest, shared_token: str, settings: Any, keep_test_connection: None
) -> str:
    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []
    return shared_copy(request, shared_token)


COVERAGE_EXAMPLES = int(os.environ.get("COVERAGE_EXAMPLES", "40"))


def coverage_kind(case: Any) -> tuple[str, str, str]:
    """What kind of input a coverage case is (its mode, where, and the last step of its
    description without the property names: "negative, body, Incorrect type")."""
    data = case.meta.phase.data
    description = re.sub(r"'[^']*'", "'…'", getattr(data, "description", "") or "")
    return (
        str(case.meta.generation.mode),
        str(getattr(data, "parameter_location", "")),
        description.rsplit(": ", 1)[-1],
    )


def bounded(examples: list[Any], limit: int) -> list[Any]:
    """An operation's coverage cases, in their order, but at most ``limit`` of them or
    one of each kind if there are more kinds: the first case of each kind, then the
    second of each, and so on."""
    if not limit or len(examples) <= limit:
        return examples
    kinds: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        kinds[coverage_kind(example.kwargs["case"])].append(index)
    chosen = [indexes[0] for indexes in kinds.values()]
    depth = 1
    while len(chosen) < limit:
        chosen.extend(indexes[depth] for indexes in kinds.values() if depth < len(indexes))
        depth += 1
    return [examples[index] for index in sorted(chosen[: max(limit, len(kinds))])]


@pytest.fixture
def bounded_coverage(request: pytest.FixtureRequest) -> None:
    """Schemathesis attaches the coverage cases to each operation's test as Hypothesis'
    explicit examples, read when the test starts: keep ``COVERAGE_EXAMPLES`` of them."""
    test = request.node.obj
    examples = test.hypothesis_explicit_examples
    examples[:] = bounded(examples, COVERAGE_EXAMPLES)


@FUZZED.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_a_server_error(case: Any, token: str, bounded_coverage: None) -> None:
    without_generated_credentials(case)
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.as_curl_command(), response.text[:1000])
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), (
            case.as_curl_command(),
            response.status_code,
            content_type,
        )
