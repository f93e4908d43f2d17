"""A crafted data set for the dashboard's aggregates, every figure known by hand.

Suppliers (verified = status active and not deactivated):
  s1 MH micro, women-owned, Pune: jet-milling 1000 kg, hydrogen-decrepitation 800 kg
  s2 MH small, SC/ST-owned, no coordinates; a plant near Chennai (all capabilities):
     jet-milling 500 kg
  s3 TN medium, Chennai: hysteresigraph-testing, no capacity stated
  s4 MH pending (not verified): jet-milling
  s5 KA verified but deactivated: jet-milling
Requests (A and B are manufacturers):
  r1 A components MH, jet-milling + hydrogen-decrepitation, published 2026-10-05 10:00:
     s1 awarded 2026-10-10 10:00 (via invited, interested), s2 proposed; first match +1 h;
     near miss s3 (ISO/IEC 17025)
  r2 A testing TN, hysteresigraph-testing, published 2026-11-02: no match;
     near misses s1, s2 (ISO/IEC 17025)
  r3 B components KA, jet-milling, published 2026-11-03 10:00: s2 awarded 2026-11-20 10:00
     (no transitions recorded), s1 shortlisted; first match +2 h;
     near misses s3 (capability), s4 (active)
  r5 B components MH, jet-milling, published 2026-11-04 10:00: s1 declined (after
     invited); first match +3 h; near miss s3 (ISO/IEC 17025)
  r4 A draft: never counted
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from matching.models import Match, MatchTransition, NearMiss, ProcurementRequest
from suppliers.models import Capability, SupplierPlant
from tests.conftest import taxonomy_load_fast
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SupplierCapabilityFactory,
    SupplierFactory,
)

IST = ZoneInfo("Asia/Kolkata")
PUNE = (18.52, 73.85)
CHENNAI = (13.08, 80.27)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=IST)


@dataclass
class Crafted:
    buyer_a: Any  # a user of A
    buyer_b: Any
    operator: Any
    sme_user: Any
    org_a: Any
    org_b: Any
    suppliers: dict[str, Any]
    requests: dict[str, Any]


def _capability(supplier: Any, code: str, **kwargs: Any) -> None:
    SupplierCapabilityFactory(
        supplier=supplier, capability=Capability.objects.get(code=code), **kwargs
    )


def _request(
    owner: Any, layer: str, state: str, caps: list[str], published: datetime | None
) -> Any:
    request = ProcurementRequest.objects.create(
        owner=owner,
        title=f"{layer} in {state}",
        layer=layer,
        delivery_state=state,
        status="open" if published else "draft",
        published_at=published,
    )
    request.required_capabilities.set(Capability.objects.filter(code__in=caps))
    return request


def _match(
    request: Any,
    supplier: Any,
    status: str,
    *,
    created: datetime,
    changed: datetime | None = None,
    path: tuple[str, ...] = (),
) -> Match:
    match = Match.objects.create(
        request=request,
        supplier=supplier,
        score=70,
        algorithm_version="test",
        scored_at=created,
        status=status,
        status_changed_at=changed,
    )
    Match.objects.filter(id=match.id).update(created_at=created)
    previous = "proposed"
    for step in path:
        MatchTransition.objects.create(
            match=match, from_status=previous, to_status=step, party="buyer", at=created
        )
        previous = step
    return match


@pytest.fixture
def crafted(db: None) -> Crafted:
    taxonomy_load_fast()
    org_a = OrganizationFactory(kind="manufacturer")
    org_b = OrganizationFactory(kind="manufacturer")
    s1 = SupplierFactory(
        enterprise_size="micro", women_owned=True, latitude=PUNE[0], longitude=PUNE[1]
    )
    s2 = SupplierFactory(enterprise_size="small", sc_st_owned=True)
    SupplierPlant.objects.create(
        supplier=s2,
        name="Chennai works",
        state="TN",
        latitude=CHENNAI[0] + 0.05,
        longitude=CHENNAI[1],
    )
    s3 = SupplierFactory(
        enterprise_size="medium", state="TN", latitude=CHENNAI[0], longitude=CHENNAI[1]
    )
    s4 = SupplierFactory(status="pending")
    s5 = SupplierFactory(state="KA", is_active=False)
    _capability(s1, "jet-milling", capacity_per_month=1000)
    _capability(s1, "hydrogen-decrepitation", capacity_per_month=800)
    _capability(s2, "jet-milling", capacity_per_month=500)
    _capability(s3, "hysteresigraph-testing", capacity_per_month=None, capacity_unit="")
    _capability(s4, "jet-milling")
    _capability(s5, "jet-milling")

    r1 = _request(
        org_a, "components", "MH", ["jet-milling", "hydrogen-decrepitation"], at("2026-10-05")
    )
    r2 = _request(org_a, "testing", "TN", ["hysteresigraph-testing"], at("2026-11-02"))
    r3 = _request(org_b, "components", "KA", ["jet-milling"], at("2026-11-03"))
    r5 = _request(org_b, "components", "MH", ["jet-milling"], at("2026-11-04"))
    r4 = _request(org_a, "components", "MH", ["jet-milling"], None)

    _match(
        r1,
        s1,
        "awarded",
        created=at("2026-10-05", 11),
        changed=at("2026-10-10"),
        path=("invited", "interested", "awarded"),
    )
    _match(r1, s2, "proposed", created=at("2026-10-05", 12))
    _match(r3, s2, "awarded", created=at("2026-11-03", 12), changed=at("2026-11-20"))
    _match(r3, s1, "shortlisted", created=at("2026-11-03", 13), changed=at("2026-11-04"))
    _match(
        r5,
        s1,
        "declined",
        created=at("2026-11-04", 13),
        changed=at("2026-11-05"),
        path=("invited", "declined"),
    )
    _match(r4, s1, "proposed", created=at("2026-11-04", 13))  # a draft's: never counted
    iso = "certification:iso-iec-17025"
    for request, supplier, constraint in (
        (r1, s3, iso),
        (r2, s1, iso),
        (r2, s2, iso),
        (r3, s3, "capability"),
        (r3, s4, "active"),
        (r5, s3, iso),
    ):
        NearMiss.objects.create(
            request=request, supplier=supplier, constraint=constraint, reason=constraint
        )
    return Crafted(
        buyer_a=MembershipFactory(organization=org_a).user,
        buyer_b=MembershipFactory(organization=org_b).user,
        operator=MembershipFactory(organization=OrganizationFactory(kind="operator")).user,
        sme_user=MembershipFactory(organization=s1.owner).user,
        org_a=org_a,
        org_b=org_b,
        suppliers={"s1": s1, "s2": s2, "s3": s3, "s4": s4, "s5": s5},
        requests={"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5},
    )
