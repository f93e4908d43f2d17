"""Every response of every operation, as each kind of caller gets it, is what the schema
says (schemathesis' conformance checks). CONFORMANCE_EXAMPLES sets the examples per
operation (2); each is sent as every role."""

import os
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings

from tests.factories import APIKeyFactory, UserTokenFactory
from tests.matching import conftest as matching
from tests.remag.schema_requests import keep_test_connection, schema, without_generated_credentials

world = matching.world  # the matching tests' small world
__all__ = ["keep_test_connection", "world"]  # fixtures

# ------------------------------------------------------------------ conformance, per role
# Issue 11: every response of every operation, as each kind of caller gets it, is what the
# schema says (body and status), so a client generated from the schema parses it. Path
# parameters are real objects of a small world (a published request with matches in the
# lifecycle, events, a webhook endpoint and delivery, an import), so reads return data
# and writes reach the rules, whatever the generated query and body.
# CONFORMANCE_EXAMPLES sets the examples per operation (3); each is sent as every role.

ROLES = ("anonymous", "sme", "manufacturer", "portal_read", "portal_write", "operator")
CONFORMANCE_CHECKS = [
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
]
CONFORMED = schema.include(path_regex=r"^/api/v1/")


@dataclass
class Stage:
    callers: dict[str, dict[str, str]]
    ids: dict[str, str]


# Which object a path's parameters name, by the path's start.
PATH_OBJECTS = (
    ("/api/v1/organizations/{organization_id}/api-keys/", "organization_id", "key_org"),
    ("/api/v1/organizations/{organization_id}/api-keys/{id}", "id", "api_key"),
    ("/api/v1/organizations/{id}", "id", "organization"),
    ("/api/v1/me/tokens/{id}", "id", "token"),
    ("/api/v1/suppliers/{id}", "id", "supplier"),
    ("/api/v1/requests/{id}", "id", "request"),
    ("/api/v1/match-runs/{id}", "id", "run"),
    ("/api/v1/matches/{id}", "id", "match"),
    ("/api/v1/imports/{id}", "id", "import"),
    ("/api/v1/events/{id}", "id", "event"),
    ("/api/v1/webhooks/endpoints/{id}", "id", "endpoint"),
    ("/api/v1/webhooks/deliveries/{id}", "id", "delivery"),
    ("/api/v1/taxonomy/capabilities/{code}", "code", "capability"),
    ("/api/v1/taxonomy/certifications/{code}", "code", "certification"),
    ("/api/v1/taxonomy/grades/{code}", "code", "grade"),
)


def real_path_parameters(path: str, ids: dict[str, str]) -> dict[str, str]:
    return {
        name: ids[key]
        for start, name, key in PATH_OBJECTS
        if path.startswith(start) and "{" + name + "}" in path
    }


@pytest.fixture
def stage(world: Any, settings: Any, keep_test_connection: None) -> Stage:
    from matching import runs
    from matching.models import Match, MatchRun
    from remag.webhooks import events
    from remag.webhooks.models import Delivery, WebhookEndpoint
    from suppliers.models import ImportJob, MaterialGrade
    from tests.matching.conftest import client_for, request_body

    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []
    here = world
    buyer = client_for(here.buyer)
    request_id = buyer.post("/api/v1/requests/", request_body(), format="json").json()["id"]
    buyer.post(f"/api/v1/requests/{request_id}/publish/")
    run = MatchRun.objects.get(request_id=request_id)
    runs.match_run_execute(run_id=run.id)
    match = Match.objects.get(request_id=request_id, supplier=here.suppliers["full"])
    for status in ("shortlisted", "invited"):
        buyer.post(f"/api/v1/matches/{match.id}/transitions/", {"status": status}, format="json")
    here.suppliers["half"].onboarded_by = here.portal_org
    here.suppliers["half"].save(update_fields=["onboarded_by"])
    endpoint = WebhookEndpoint.objects.create(
        organization=here.buyer_org,
        url="https://hooks.example.in/remag",
        event_types=["match.invited", "match.responded"],
    )
    event = events.emit(
        "webhook.ping",
        {"endpoint": {"id": str(endpoint.id), "url": endpoint.url}},
        audience=[here.buyer_org.id],
        only_endpoint=endpoint,
    )
    delivery = Delivery.objects.get(event=event)
    job = ImportJob.objects.create(
        owner=here.portal_org, file_format="csv", content=b"", size_bytes=0
    )
    manufacturer_token = UserTokenFactory(user=here.buyer)
    read_key = APIKeyFactory(organization=here.portal_org, scopes=["read"])
    write_key = APIKeyFactory(organization=here.portal_org, scopes=["read", "write"])

    def bearer(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {UserTokenFactory(user=user).raw_key}"}

    callers = {
        "anonymous": {},
        "sme": bearer(here.sme_users["full"]),
        "manufacturer": {"Authorization": f"Bearer {manufacturer_token.raw_key}"},
        "portal_read": {"Authorization": f"Api-Key {read_key.raw_key}"},
        "portal_write": {"Authorization": f"Api-Key {write_key.raw_key}"},
        "operator": bearer(here.operator),
    }
    ids = {
        "organization": str(here.buyer_org.id),
        "key_org": str(here.portal_org.id),
        "api_key": str(read_key.id),
        "token": str(manufacturer_token.id),
        "supplier": str(here.suppliers["full"].id),
        "request": request_id,
        "run": str(run.id),
        "match": str(match.id),
        "import": str(job.id),
        "event": str(event.id),
        "endpoint": str(endpoint.id),
        "delivery": str(delivery.id),
        "capability": "jet-milling",
        "certification": "iso-9001",
        "grade": MaterialGrade.objects.order_by("code").first().code,
    }
    # Django's test client (used above) connects these again after each of its requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    return Stage(callers=callers, ids=ids)


def test_every_response_conforms_to_the_schema_for_every_role(stage: Stage) -> None:
    """One world for all operations (deletes last), so the test stays fast: each
    operation gets CONFORMANCE_EXAMPLES valid generated requests plus, for a read, the
    plain one, each sent as every role."""
    operations = [result.ok() for result in CONFORMED.get_all_operations()]
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    assert len(operations) > 50

    for operation in operations:
        path_parameters = real_path_parameters(operation.path, stage.ids)

        @given(case=operation.as_strategy(path_parameters=path_parameters))
        @settings(
            max_examples=int(os.environ.get("CONFORMANCE_EXAMPLES", "2")),
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def conforms(case: Any) -> None:
            cases = [case]
            if case.method == "GET":  # also the plain read, whatever was generated
                cases.append(case.operation.Case(path_parameters=case.path_parameters, query={}))
            for each in cases:
                without_generated_credentials(each)
                for role in ROLES:
                    response = each.call(headers=stage.callers[role])
                    each.validate_response(response, checks=CONFORMANCE_CHECKS)

        conforms()
