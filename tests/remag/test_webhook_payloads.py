"""Webhook payloads are stated once (``events.PAYLOAD_SHAPES``): what the builders send
is exactly what the schema documents, member for member, for every event type."""

import uuid
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from remag.webhooks import events
from remag.webhooks.api.serializers import PAYLOADS
from remag.webhooks.choices import EventType

OBJECTS = {
    "supplier": SimpleNamespace(
        id=uuid.uuid4(), legal_name="Sahyadri Magnetics", udyam_number="UDYAM-MH-26-0012345",
        state="MH", status="active",
    ),
    "request": SimpleNamespace(
        id=uuid.uuid4(), title="NiCuNi coating", layer="components", status="open",
        needed_by=date(2027, 1, 31),
    ),
    "run": SimpleNamespace(
        id=uuid.uuid4(), request_id=uuid.uuid4(), status="succeeded", candidate_count=10,
        matched_count=3, error="",
    ),
    "match": SimpleNamespace(
        id=uuid.uuid4(), request_id=uuid.uuid4(), supplier_id=uuid.uuid4(), status="invited",
        score=71.5, public_score=64.25,
    ),
    "import": SimpleNamespace(
        id=uuid.uuid4(), status="succeeded", rows_total=5, created_count=3, updated_count=1,
        unchanged_count=0, failed_count=1,
    ),
    "endpoint": SimpleNamespace(id=uuid.uuid4(), url="https://portal.example/hooks"),
    "claimed_by": SimpleNamespace(id=uuid.uuid4(), name="Rao Precision Works"),
    "quotation_request": SimpleNamespace(
        id=uuid.uuid4(), request_id=uuid.uuid4(), status="open",
        deadline=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    ),
    "quotation": SimpleNamespace(
        id=uuid.uuid4(), quotation_request_id=uuid.uuid4(), match_id=uuid.uuid4(),
        supplier_id=uuid.uuid4(), status="submitted", revision=2,
    ),
    "order": SimpleNamespace(
        id=uuid.uuid4(), request_id=uuid.uuid4(), match_id=uuid.uuid4(),
        supplier_id=uuid.uuid4(), status="open", delivery_date=date(2027, 1, 15),
    ),
    "delivery": SimpleNamespace(id=uuid.uuid4(), delivered_on=date(2027, 1, 14), on_time=True),
    "payment": SimpleNamespace(id=uuid.uuid4(), received_on=date(2027, 2, 10)),
    "call": SimpleNamespace(
        id=uuid.uuid4(), kind="co_development", topic="HRE-free magnets", status="open",
        response_deadline=None,
    ),
    "call_run": SimpleNamespace(
        id=uuid.uuid4(), call_id=uuid.uuid4(), status="succeeded", candidate_count=4,
        matched_count=2, error="",
    ),
    "interest": SimpleNamespace(
        id=uuid.uuid4(), call_id=uuid.uuid4(), supplier_id=uuid.uuid4(),
        organization_id=uuid.uuid4(), status="submitted",
    ),
    "acknowledgement": SimpleNamespace(
        id=uuid.uuid4(), call_id=uuid.uuid4(), organization_id=uuid.uuid4(),
        acknowledged_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
    ),
    "magnet_offer": SimpleNamespace(
        id=uuid.uuid4(), title="Sintered NdFeB arcs", material="sintered_ndfeb",
        status="published", valid_until=None,
    ),
    "magnet_requirement": SimpleNamespace(
        id=uuid.uuid4(), title="Rotor arcs", application="traction_motor", grade="n42sh",
        status="open", needed_from=date(2027, 2, 1),
    ),
    "magnet_run": SimpleNamespace(
        id=uuid.uuid4(), direction="requirement", requirement_id=uuid.uuid4(), offer_id=None,
        status="succeeded", candidate_count=12, matched_count=4, error="",
    ),
    "magnet_match": SimpleNamespace(
        id=uuid.uuid4(), requirement_id=uuid.uuid4(), offer_id=uuid.uuid4(),
        status="interested", public_score=68.2,
    ),
    "magnet_pool": SimpleNamespace(
        id=uuid.uuid4(), grade="n42sh", shape="arc", delivery_state="KA", status="open",
        member_count=3, quantity_kg_float=180.0, answered_offer_id=None,
    ),
}  # fmt: skip
BUILDERS = {
    "supplier": events.supplier_payload,
    "request": events.request_payload,
    "run": events.run_payload,
    "match": events.match_payload,
    "import": events.import_payload,
    "endpoint": events.endpoint_payload,
    "quotation_request": events.quotation_request_payload,
    "quotation": events.quotation_payload,
    "order": events.order_payload,
    "call": events.call_payload,
    "magnet_offer": events.magnet_offer_payload,
    "magnet_requirement": events.magnet_requirement_payload,
    "magnet_run": events.magnet_run_payload,
    "magnet_match": events.magnet_match_payload,
    "magnet_pool": events.magnet_pool_payload,
}
SCALARS = {
    "reason": "too many failures",
    "answer": "interested",
    "method": "code",
    "portal_access": "delegated",
    "outcome": "good",
    "decision": "accepted",
    "offer_status": "withdrawn",
}


def build(event_type: str) -> dict[str, Any]:
    shape = events.PAYLOAD_SHAPES[event_type]
    # The first object is the event's subject (its builder's); others are built by shape.
    key, *others = [k for k, v in shape.items() if isinstance(v, dict)]
    extra = {
        k: events.object_payload(shape[k], OBJECTS[k]) if k in others else SCALARS[k]  # type: ignore[arg-type]
        for k in shape
        if k != key
    }
    builder = BUILDERS[key]
    return builder(OBJECTS[key], **extra) if extra else builder(OBJECTS[key])


@pytest.mark.parametrize("event_type", EventType.values)
def test_every_payload_is_what_the_schema_documents(event_type: str) -> None:
    payload = build(event_type)
    serializer = PAYLOADS[event_type](data=payload)

    assert serializer.is_valid(), serializer.errors
    assert set(payload) == set(serializer.fields)
    for key, field in serializer.fields.items():
        if hasattr(field, "fields"):
            assert set(payload[key]) == set(field.fields), key


def test_references_are_json_ready() -> None:
    payload = events.request_payload(OBJECTS["request"])

    assert payload["request"]["id"] == str(OBJECTS["request"].id)
    assert payload["request"]["needed_by"] == "2027-01-31"
    assert events.run_payload(OBJECTS["run"])["run"]["request"] == str(OBJECTS["run"].request_id)
