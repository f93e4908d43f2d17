"""A small world for calls for collaboration: a manufacturer and an R&D institution that
post, SMEs whose suppliers each test one rule, an operator; helpers to post and run calls."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from django.utils import timezone

from matching.collaboration import runs
from matching.collaboration.models import CallRun
from suppliers.models import Capability, Supplier
from suppliers.taxonomy import TAXONOMY_FILE
from tests.factories import MembershipFactory, OrganizationFactory, SupplierFactory
from tests.matching.conftest import PUNE, add_capability, client_for

__all__ = ["CollabWorld", "call_body", "client_for", "collab_world", "run_pending"]


@dataclass
class CollabWorld:
    poster: Any  # a manufacturer's member
    poster_org: Any
    institute: Any  # an R&D institution's member
    operator: Any
    sme_users: dict[str, Any]
    suppliers: dict[str, Supplier]


# The capabilities this world uses, as shipped (loading the whole taxonomy for each of
# the permission matrix's cases would cost more than the cases).
CODES = (
    "materials-rnd",
    "prototyping",
    "co-development",
    "strip-casting",
    "facility-vsm",
    "facility-sem-eds",
    "facility-xrd",
)


@cache
def shipped_capabilities() -> dict[str, dict[str, Any]]:
    data = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    return {item["code"]: item for item in data["capabilities"]}


def capabilities_load() -> None:
    shipped = shipped_capabilities()
    Capability.objects.bulk_create(
        [
            Capability(
                code=code,
                name=shipped[code]["name"],
                layer=shipped[code]["layer"],
                synonyms=shipped[code].get("synonyms", []),
            )
            for code in CODES
        ],
        ignore_conflicts=True,
    )


@pytest.fixture
def cworld(db: None) -> CollabWorld:
    return collab_world()


def collab_world() -> CollabWorld:
    capabilities_load()
    poster = MembershipFactory(organization=OrganizationFactory(kind="manufacturer"))
    institute = MembershipFactory(organization=OrganizationFactory(kind="research")).user
    operator = MembershipFactory(organization=OrganizationFactory(kind="operator")).user
    lat, lon = PUNE

    def sme(name: str, *codes: str, **kwargs: Any) -> Supplier:
        supplier = SupplierFactory(
            legal_name=f"{name} Research Pvt Ltd",
            contact_name=f"{name} Contact",
            contact_email=f"{name.lower()}@example.in",
            contact_phone="+919800000000",
            **kwargs,
        )
        for code in codes:
            add_capability(supplier, code, capacity_per_month=None, capacity_unit="")
        return supplier

    suppliers = {
        # Qualifies: both capabilities, the VSM and the preferred SEM, in Pune.
        "lab": sme(
            "Lab", "materials-rnd", "prototyping", "facility-vsm", "facility-sem-eds",
            latitude=lat, longitude=lon,
        ),
        # Qualifies: one capability of two, the VSM; no coordinates.
        "half": sme("Half", "materials-rnd", "facility-vsm"),
        # Near miss: no VSM.
        "novsm": sme("Novsm", "materials-rnd", "prototyping", latitude=lat, longitude=lon),
        # Near miss: not verified yet.
        "pending": sme("Pending", "materials-rnd", "facility-vsm", status="pending"),
        # Not a candidate: nothing the call asks for.
        "other": sme("Other", "strip-casting"),
    }  # fmt: skip
    sme_users = {
        key: MembershipFactory(organization=supplier.owner).user
        for key, supplier in suppliers.items()
    }
    return CollabWorld(
        poster=poster.user,
        poster_org=poster.organization,
        institute=institute,
        operator=operator,
        sme_users=sme_users,
        suppliers=suppliers,
    )


NDA_TEXT = "The recipient keeps the call's details confidential for three years."


def call_body(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    body: dict[str, Any] = {
        "kind": "co_development",
        "topic": "Heavy-rare-earth-free sintered NdFeB magnets",
        "summary": "Co-develop grain-boundary diffusion for HRE-free magnets.",
        "description": "Confidential: target HcJ 1.9 MA/m with Ce substitution at 20%.",
        "required_capabilities": ["materials-rnd", "prototyping"],
        "required_facilities": ["facility-vsm"],
        "preferred_facilities": ["facility-sem-eds"],
        "timeframe_start": (today + timedelta(days=30)).isoformat(),
        "timeframe_end": (today + timedelta(days=400)).isoformat(),
        "response_deadline": (today + timedelta(days=20)).isoformat(),
        "requires_nda": True,
        "nda_text": NDA_TEXT,
        "latitude": PUNE[0],
        "longitude": PUNE[1],
        "contact_name": "Dr Poster",
        "contact_email": "rnd@plant.example.in",
        "contact_phone": "+912000000000",
    }
    body.update(overrides)
    return body


def run_pending(call_id: str) -> CallRun:
    """Execute the call's queued run here (the worker's job; tested in test_worker.py)."""
    run = CallRun.objects.filter(call_id=call_id, status="queued").latest("created_at")
    runs.call_run_execute(run_id=run.id)
    run.refresh_from_db()
    return run


@pytest.fixture
def opened(cworld: CollabWorld) -> Callable[..., dict[str, Any]]:
    """Post, open and match a call; returns the call as its poster reads it."""

    def make(user: Any = None, **overrides: Any) -> dict[str, Any]:
        client = client_for(user or cworld.poster)
        created = client.post("/api/v1/collaboration/calls/", call_body(**overrides), format="json")
        assert created.status_code == 201, created.json()
        response = client.post(f"/api/v1/collaboration/calls/{created.json()['id']}/open/")
        assert response.status_code == 200, response.json()
        run = run_pending(created.json()["id"])
        assert run.status == "succeeded", run.error
        return response.json()

    return make
