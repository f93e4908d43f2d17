"""Distance from the nearest site offering a required capability: the supplier's main
location or one of its plants (docs/matching.md, *Distance*)."""

from datetime import date
from typing import Any

import pytest

from matching import candidates
from matching.models import ProcurementRequest
from matching.scoring import Candidate, Criteria, batch_from, reason_is_private, score
from suppliers.models import Capability, Supplier, SupplierPlant
from tests.conftest import taxonomy_load_fast
from tests.factories import OrganizationFactory, SupplierFactory
from tests.matching.conftest import add_capability

pytestmark = pytest.mark.django_db

PUNE = (18.52, 73.85)
HOSUR = (12.74, 77.83)
DELIVERY = (12.84, 77.70)  # Electronic City, Bengaluru: about 18 km from Hosur


@pytest.fixture
def taxonomy(db: None) -> None:
    taxonomy_load_fast()


def request_for(*codes: str, max_distance_km: int | None = 100) -> ProcurementRequest:
    request = ProcurementRequest.objects.create(
        owner=OrganizationFactory(kind="manufacturer"),
        title="Jet-milled NdFeB powder",
        layer="components",
        delivery_state="KA",
        delivery_latitude=DELIVERY[0],
        delivery_longitude=DELIVERY[1],
        max_distance_km=max_distance_km,
        status="open",
    )
    request.required_capabilities.set(Capability.objects.filter(code__in=codes))
    return request


def supplier_in_pune(name: str, *capabilities: str) -> Supplier:
    supplier = SupplierFactory(
        legal_name=f"{name} Magnetics Pvt Ltd", latitude=PUNE[0], longitude=PUNE[1]
    )
    for code in capabilities:
        add_capability(supplier, code)
    return supplier


def plant(supplier: Supplier, name: str, where: tuple[float, float], *codes: str) -> None:
    site = SupplierPlant.objects.create(
        supplier=supplier, name=name, state="TN", latitude=where[0], longitude=where[1]
    )
    site.capabilities.set(Capability.objects.filter(code__in=codes))


def scored(request: ProcurementRequest) -> tuple[Any, dict[str, int]]:
    loaded = candidates.load(request, run_date=date.today())  # noqa: DTZ011
    result = score(loaded.criteria, loaded.batch)
    return result, {sid: i for i, sid in enumerate(loaded.batch.supplier_ids)}


def test_a_near_plant_offering_the_capability_places_the_supplier(taxonomy: None) -> None:
    far_office = supplier_in_pune("Deccan", "jet-milling", "sintering")
    plant(far_office, "Hosur", HOSUR, "jet-milling")

    result, index = scored(request_for("jet-milling"))

    i = index[str(far_office.id)]
    assert result.eligible[i]  # Pune is ~700 km away, beyond the 100 km limit
    assert result.distance_km[i] == pytest.approx(18.2, abs=1)
    match = result.match(i)
    assert any(r.startswith("about 18 km from the Hosur plant") for r in match.reasons)
    distance = {f.name: f.value for f in match.factors}["distance"]
    assert distance == pytest.approx(0.5 ** (result.distance_km[i] / 300), abs=1e-4)


def test_a_plant_not_offering_a_required_capability_does_not_count(taxonomy: None) -> None:
    supplier = supplier_in_pune("Deccan", "jet-milling", "sintering")
    plant(supplier, "Hosur", HOSUR, "sintering")

    result, index = scored(request_for("jet-milling"))

    i = index[str(supplier.id)]
    assert not result.eligible[i]
    assert result.distance_km[i] > 600
    [miss] = result.near_misses
    assert miss.constraint == "distance"


def test_a_plant_naming_no_capability_offers_them_all(taxonomy: None) -> None:
    supplier = supplier_in_pune("Deccan", "jet-milling")
    plant(supplier, "Hosur Unit 2", HOSUR)

    result, index = scored(request_for("jet-milling"))

    i = index[str(supplier.id)]
    assert result.eligible[i]
    assert "about 18 km from the Hosur Unit 2" in result.match(i).reasons


def test_the_nearest_of_several_plants_and_the_main_location_counts(taxonomy: None) -> None:
    near_office = SupplierFactory(latitude=12.86, longitude=77.68)  # ~3 km away
    add_capability(near_office, "jet-milling")
    plant(near_office, "Hosur", HOSUR)
    plant(near_office, "Chennai", (13.08, 80.27))
    two_plants = supplier_in_pune("Kaveri", "jet-milling")
    plant(two_plants, "Chennai", (13.08, 80.27))
    plant(two_plants, "Hosur", HOSUR)

    result, index = scored(request_for("jet-milling", max_distance_km=None))

    office = result.match(index[str(near_office.id)])
    assert any(r.startswith("about ") and r.endswith(" km away") for r in office.reasons)
    assert result.distance_km[index[str(two_plants.id)]] == pytest.approx(18.2, abs=1)


def test_a_plant_places_a_supplier_without_coordinates_exactly(taxonomy: None) -> None:
    supplier = SupplierFactory(state="TN")  # no coordinates: its state's centre
    add_capability(supplier, "jet-milling")
    plant(supplier, "Hosur", HOSUR, "jet-milling")

    result, index = scored(request_for("jet-milling"))

    i = index[str(supplier.id)]
    assert not result.batch.location_approximate[i]
    assert result.eligible[i]


def test_one_location_scores_as_before(taxonomy: None) -> None:
    """A supplier with no plant (all stored data) scores as the algorithm always did."""
    supplier = supplier_in_pune("Deccan", "jet-milling")
    far_plant = supplier_in_pune("Sahyadri", "jet-milling")
    plant(far_plant, "Nagpur", (21.15, 79.09), "jet-milling")  # farther than Pune

    result, index = scored(request_for("jet-milling", max_distance_km=None))

    a, b = index[str(supplier.id)], index[str(far_plant.id)]
    assert result.scores[a] == pytest.approx(result.scores[b])
    assert result.match(a).reasons == result.match(b).reasons
    criteria = Criteria(
        required_capabilities=("jet-milling",),
        run_date=date.today(),  # noqa: DTZ011
        latitude=DELIVERY[0],
        longitude=DELIVERY[1],
    )
    plain = score(criteria, batch_from(criteria, [
        Candidate("x", offers={"jet-milling": None}, latitude=PUNE[0], longitude=PUNE[1]),  # type: ignore[dict-item]
    ]))  # fmt: skip
    assert plain.distance_km[0] == pytest.approx(result.distance_km[a])


def test_the_plant_reason_is_private_to_the_buyer() -> None:
    assert reason_is_private("about 18 km from the Hosur plant")
    assert reason_is_private("about 18 km away")
    assert not reason_is_private("offers 1 of 1 required capabilities (jet-milling)")


def test_only_the_given_suppliers_are_loaded_with_their_plants(taxonomy: None) -> None:
    first = supplier_in_pune("Deccan", "jet-milling")
    plant(first, "Hosur", HOSUR)
    second = supplier_in_pune("Kaveri", "jet-milling")
    plant(second, "Hosur", HOSUR)

    loaded = candidates.load(
        request_for("jet-milling"),
        run_date=date.today(),  # noqa: DTZ011
        supplier_ids=[second.id],
    )

    assert loaded.batch.supplier_ids == [str(second.id)]
    assert list(loaded.batch.location_names or ()) == ["Hosur"]


@pytest.mark.parametrize("name", ['Hosur – Unit "2"', "Hosur \\ Unit 2\tnorth"])
def test_a_first_run_stores_a_plant_name_as_written(taxonomy: None, name: str) -> None:
    """A request's first run writes its matches through COPY in text format: a name with
    quotes, a backslash, a tab or characters outside ASCII comes back unchanged."""
    from django.utils import timezone

    from matching import runs
    from matching.models import Match, MatchRun

    supplier = supplier_in_pune("Deccan", "jet-milling")
    plant(supplier, name, HOSUR, "jet-milling")
    request = request_for("jet-milling")
    result, index = scored(request)
    run = MatchRun.objects.create(request=request, trigger="manual", enqueued_at=timezone.now())

    runs.match_run_execute(run_id=run.id)

    stored = Match.objects.get(request=request, supplier=supplier)
    assert f"about 18 km from the {name}" in stored.reasons
    assert stored.reasons == list(result.match(index[str(supplier.id)]).reasons)
