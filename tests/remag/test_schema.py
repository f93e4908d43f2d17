"""The OpenAPI schema generates cleanly and the docs are served from local assets."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client


def test_schema_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]


def test_schema_declares_every_authentication_scheme() -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["apiKey"]["description"],
    }
    assert schemes["personalToken"]["scheme"] == "bearer"
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_errors_are_described_as_problem_documents() -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)

    responses = schema["paths"]["/api/v1/me/"]["get"]["responses"]
    assert "application/problem+json" in responses["401"]["content"]
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


def test_creates_document_the_idempotency_key_header() -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)

    post = schema["paths"]["/api/v1/me/tokens/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_use_local_assets_only(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+\.js)""", html)
    assert assets
    for asset in assets:
        # Served from this deployment (collected or not: tests/remag/test_static.py).
        assert Client().get(asset).status_code == 200, asset


def test_schema_endpoint_is_public(db: Any) -> None:
    assert Client().get("/api/schema/").status_code == 200


# ------------------------------------------------------------------ trustworthy for clients
# Issue 11: a client generated from the schema must parse every response, for every caller.


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(Client().get("/api/schema/").content)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method.upper(), path, operation


def test_match_outcome_is_an_enum_or_null(spec: dict[str, Any]) -> None:
    outcome = spec["components"]["schemas"]["Match"]["properties"]["outcome"]

    assert outcome["nullable"] is True
    refs = {item["$ref"].rsplit("/", 1)[1] for item in outcome["oneOf"]}
    assert refs == {"OutcomeEnum", "NullEnum"}
    assert spec["components"]["schemas"]["OutcomeEnum"]["enum"] == ["good", "poor"]


def test_a_match_sends_null_before_an_outcome_is_recorded() -> None:
    from matching.api.serializers import MatchSerializer
    from matching.models import Match

    serializer = MatchSerializer()
    assert serializer.get_outcome(Match(outcome="")) is None
    assert serializer.get_outcome(Match(outcome="good")) == "good"


def test_fields_some_callers_do_not_get_are_not_required(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    supplier_required = set(schemas["Supplier"]["required"])
    assert not {"onboarded_by", "possible_duplicate_of", "status_reason", "gstin"} & (
        supplier_required
    )
    assert {"id", "legal_name", "udyam_number", "status"} <= supplier_required

    request_required = set(schemas["ProcurementRequest"]["required"])
    assert "delivery_pin_code" not in request_required
    assert {"id", "title", "layer", "status"} <= request_required
    # The published view is its own component, without the private fields at all.
    published = schemas["PublishedRequest"]["properties"]
    assert "delivery_pin_code" not in published
    assert "weights" not in published
    assert "title" in published
    # The request body still requires the PIN code.
    assert "delivery_pin_code" in schemas["ProcurementRequestInput"]["required"]


CONFLICTING = {
    ("POST", "/api/v1/suppliers/"),
    ("PUT", "/api/v1/suppliers/{id}/"),
    ("PATCH", "/api/v1/suppliers/{id}/"),
    ("PUT", "/api/v1/requests/{id}/"),
    ("PATCH", "/api/v1/requests/{id}/"),
    ("POST", "/api/v1/requests/{id}/publish/"),
    ("POST", "/api/v1/requests/{id}/close/"),
    ("POST", "/api/v1/requests/{id}/cancel/"),
    ("POST", "/api/v1/requests/{id}/match-runs/"),
    ("POST", "/api/v1/matches/{id}/transitions/"),
    ("POST", "/api/v1/matches/{id}/outcome/"),
    ("POST", "/api/v1/webhooks/endpoints/{id}/ping/"),
    ("PATCH", "/api/v1/collaboration/calls/{id}/"),
    ("POST", "/api/v1/collaboration/calls/{id}/open/"),
    ("POST", "/api/v1/collaboration/calls/{id}/close/"),
    ("POST", "/api/v1/collaboration/calls/{id}/cancel/"),
    ("POST", "/api/v1/collaboration/interests/{id}/shortlist/"),
    ("POST", "/api/v1/collaboration/interests/{id}/select/"),
    ("POST", "/api/v1/collaboration/interests/{id}/decline/"),
    ("POST", "/api/v1/collaboration/interests/{id}/withdraw/"),
    ("PUT", "/api/v1/magnets/offers/{id}/"),
    ("PATCH", "/api/v1/magnets/offers/{id}/"),
    ("POST", "/api/v1/magnets/offers/{id}/publish/"),
    ("POST", "/api/v1/magnets/offers/{id}/withdraw/"),
    ("PUT", "/api/v1/magnets/requirements/{id}/"),
    ("PATCH", "/api/v1/magnets/requirements/{id}/"),
    ("POST", "/api/v1/magnets/requirements/{id}/open/"),
    ("POST", "/api/v1/magnets/requirements/{id}/close/"),
    ("POST", "/api/v1/magnets/requirements/{id}/cancel/"),
    ("POST", "/api/v1/magnets/matches/{id}/outcome/"),
}

IDEMPOTENT = {
    ("POST", "/api/v1/suppliers/"),
    ("POST", "/api/v1/imports/"),
    ("POST", "/api/v1/requests/"),
    ("POST", "/api/v1/requests/{id}/match-runs/"),
    ("POST", "/api/v1/matches/{id}/transitions/"),
    ("POST", "/api/v1/me/tokens/"),
    ("POST", "/api/v1/organizations/"),
    ("POST", "/api/v1/organizations/{organization_id}/api-keys/"),
    ("POST", "/api/v1/organizations/{organization_id}/invitations/"),
    ("POST", "/api/v1/organizations/{organization_id}/delegations/"),
    ("POST", "/api/v1/webhooks/endpoints/"),
    ("POST", "/api/v1/webhooks/endpoints/{id}/ping/"),
    ("POST", "/api/v1/webhooks/deliveries/{id}/redeliver/"),
    ("POST", "/api/v1/quotation-requests/"),
    ("POST", "/api/v1/quotation-requests/{id}/award/"),
    ("POST", "/api/v1/quotations/"),
    ("POST", "/api/v1/quotations/{id}/revisions/"),
    ("POST", "/api/v1/quotations/{id}/withdraw/"),
    ("POST", "/api/v1/quotations/{id}/attachments/"),
    ("POST", "/api/v1/orders/{id}/deliveries/"),
    ("POST", "/api/v1/orders/{id}/payments/"),
    ("POST", "/api/v1/collaboration/calls/"),
    ("POST", "/api/v1/collaboration/calls/{id}/runs/"),
    ("POST", "/api/v1/collaboration/calls/{id}/nda/"),
    ("POST", "/api/v1/collaboration/interests/"),
    ("POST", "/api/v1/magnets/offers/"),
    ("POST", "/api/v1/magnets/offers/{id}/runs/"),
    ("POST", "/api/v1/magnets/requirements/"),
    ("POST", "/api/v1/magnets/requirements/{id}/runs/"),
    ("POST", "/api/v1/magnets/matches/{id}/transitions/"),
    ("POST", "/api/v1/magnets/pools/{id}/answer/"),
}


def test_409_is_declared_where_it_is_returned(spec: dict[str, Any]) -> None:
    declared = {(m, p) for m, p, op in _operations(spec) if "409" in op["responses"]}

    # Every operation honouring Idempotency-Key may answer 409 (the same key in flight).
    assert declared == CONFLICTING | IDEMPOTENT
    response = spec["paths"]["/api/v1/suppliers/"]["post"]["responses"]["409"]
    assert response["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }


def test_idempotency_key_is_declared_exactly_where_it_is_honoured(
    spec: dict[str, Any],
) -> None:
    declared = {
        (m, p)
        for m, p, op in _operations(spec)
        if any(x["name"] == "Idempotency-Key" for x in op.get("parameters", []))
    }

    assert declared == IDEMPOTENT


def test_event_payloads_are_a_union_discriminated_by_type(spec: dict[str, Any]) -> None:
    from remag.webhooks.events import PAYLOAD_SHAPES

    schemas = spec["components"]["schemas"]
    event = schemas["Event"]
    assert event["discriminator"]["propertyName"] == "type"
    mapping = event["discriminator"]["mapping"]
    assert set(mapping) == {str(t) for t in PAYLOAD_SHAPES}
    for event_type, ref in mapping.items():
        component = schemas[ref.rsplit("/", 1)[1]]
        type_enum = schemas[component["properties"]["type"]["$ref"].rsplit("/", 1)[1]]
        assert type_enum["enum"] == [event_type]
        payload = schemas[component["properties"]["payload"]["$ref"].rsplit("/", 1)[1]]
        assert set(payload["properties"]) == set(PAYLOAD_SHAPES[event_type])
    assert schemas["PaginatedEventList"]["properties"]["results"]["items"] == {
        "$ref": "#/components/schemas/Event"
    }
    assert schemas["Delivery"]["properties"]["event"]["allOf"] == [
        {"$ref": "#/components/schemas/Event"}
    ]


def test_no_operation_has_an_untyped_parameter(spec: dict[str, Any]) -> None:
    untyped = [
        (method, path, parameter["name"])
        for method, path, operation in _operations(spec)
        for parameter in operation.get("parameters", [])
        if "type" not in parameter["schema"] and "$ref" not in parameter["schema"]
    ]

    assert untyped == []


def test_component_names_are_clean(spec: dict[str, Any]) -> None:
    names = list(spec["components"]["schemas"])

    assert [n for n in names if n.startswith("_")] == []
    assert [n for n in names if re.search(r"(Request){2}|(Input){2}", n)] == []
    assert "SupplierInput" in names
    assert "TransitionInput" in names


def test_every_operation_is_tagged_by_its_resource(spec: dict[str, Any]) -> None:
    tags = {op["operationId"]: op["tags"] for _, _, op in _operations(spec)}

    assert tags["match_runs_retrieve"] == ["match-runs"]
    assert tags["requests_match_runs_list"] == ["requests"]
