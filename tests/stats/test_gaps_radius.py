"""The coverage gaps' radius figure against a count by hand: every verified supplier with
a site (its main location, or a plant naming the capability or none) within the
great-circle radius, per capability. Both ways the selector reads it, by the coverage
cells and by the sites alone (when the cells are not the last refresh's), on a few
hundred circles: small ones inside a cell, large ones, circles whose edge runs through
clusters of sites, and sites on the cells' edges."""

import math
import random
from typing import Any

import pytest

from stats import models as stats
from stats import selectors
from stats.services import stats_refresh
from suppliers.models import Capability, SupplierPlant
from tests.conftest import taxonomy_load_fast
from tests.factories import SupplierCapabilityFactory, SupplierFactory

CODES = ("jet-milling", "hydrogen-decrepitation", "strip-casting", "hysteresigraph-testing")
CENTRE = (18.5, 73.8)


def spot(rng: random.Random) -> tuple[float, float]:
    """A place near CENTRE: half on the 0.1-degree grid's lines or near them."""
    latitude = CENTRE[0] + rng.uniform(-2.5, 2.5)
    longitude = CENTRE[1] + rng.uniform(-2.5, 2.5)
    if rng.random() < 0.5:
        latitude = round(latitude, 1) + rng.choice((0.0, 1e-9, -1e-9))
        longitude = round(longitude, 1) + rng.choice((0.0, 1e-9, -1e-9))
    return latitude, longitude


@pytest.fixture
def registry(db: None) -> list[tuple[Any, list[tuple[float, float, set[str]]]]]:
    """Forty suppliers near CENTRE, some verified, some with plants; per supplier its
    sites as (latitude, longitude, capability codes)."""
    taxonomy_load_fast()
    rng = random.Random(20261127)
    capabilities = {c.code: c for c in Capability.objects.filter(code__in=CODES)}
    made = []
    for n in range(40):
        located = rng.random() < 0.85
        latitude, longitude = spot(rng) if located else (None, None)
        supplier = SupplierFactory(
            latitude=latitude,
            longitude=longitude,
            status="active" if n % 9 else "pending",
            is_active=n % 13 != 5,
        )
        codes = set(rng.sample(CODES, rng.randint(1, 3)))
        for code in codes:
            SupplierCapabilityFactory(supplier=supplier, capability=capabilities[code])
        sites = [(latitude, longitude, codes)] if located else []
        for p in range(rng.choice((0, 0, 1, 3))):
            plant_latitude, plant_longitude = spot(rng)
            plant = SupplierPlant.objects.create(
                supplier=supplier,
                name=f"works {p}",
                state="MH",
                latitude=plant_latitude,
                longitude=plant_longitude,
            )
            named = set(rng.sample(sorted(codes), rng.randint(0, len(codes))))
            plant.capabilities.set(capabilities[c] for c in named)
            sites.append((plant_latitude, plant_longitude, named or codes))
        if supplier.status == "active" and supplier.is_active:
            made.append((supplier, sites))
    stats_refresh()
    return made


def by_hand(registry: list[Any], latitude: float, longitude: float, radius_km: float) -> dict:
    phi = math.radians(latitude)
    counts: dict[str, int] = {}
    for _supplier, sites in registry:
        near: set[str] = set()
        for site_latitude, site_longitude, codes in sites:
            cosine = math.sin(phi) * math.sin(math.radians(site_latitude)) + math.cos(
                phi
            ) * math.cos(math.radians(site_latitude)) * math.cos(
                math.radians(site_longitude - longitude)
            )
            if cosine >= math.cos(radius_km / selectors.EARTH_RADIUS_KM):
                near |= codes
        for code in near:
            counts[code] = counts.get(code, 0) + 1
    return counts


def circles() -> list[tuple[float, float, float, int]]:
    rng = random.Random(7)
    made = []
    for _ in range(150):
        latitude, longitude = spot(rng)
        radius_km = rng.choice((0.5, 3, 8, 12, 25, 60, 150, 300, 700, 2500)) * rng.uniform(0.8, 1.2)
        made.append((latitude, longitude, radius_km, rng.choice((1, 2, 3, 50))))
    return made


@pytest.mark.parametrize("cells", [True, False], ids=["by cells", "by sites"])
def test_the_radius_counts_what_a_count_by_hand_does(registry: list[Any], cells: bool) -> None:
    if not cells:
        stats.Refresh.objects.filter(id=1).update(cells_of=None)
    checked = 0
    for latitude, longitude, radius_km, threshold in circles():
        body = selectors.coverage_gaps(
            latitude=latitude,
            longitude=longitude,
            radius_km=radius_km,
            threshold=threshold,
            layer=None,
        )
        expected = by_hand(registry, latitude, longitude, radius_km)
        got = {g["capability"]: g["suppliers"] for g in body["capabilities"]}
        for code in CODES:
            if expected.get(code, 0) < threshold:
                assert got.get(code) == expected.get(code, 0), (latitude, longitude, radius_km)
                checked += 1
            else:
                assert code not in got, (latitude, longitude, radius_km, threshold)
    assert checked > 300  # most circles leave some capability below their threshold


def test_the_cells_are_read_only_when_the_last_refresh_wrote_them(registry: list[Any]) -> None:
    circle = selectors._Circle(*CENTRE, 200)

    by_cells = selectors._suppliers_near_by_cells(circle, layer=None, threshold=1000)
    stats.Refresh.objects.filter(id=1).update(cells_of=None)

    assert by_cells == selectors._suppliers_near(circle, layer=None, threshold=1000)
    assert sum(by_cells.values()) > 0
    assert selectors._suppliers_near_by_cells(circle, layer=None, threshold=1000) is None


def test_a_large_radius_reaches_every_longitude_its_circle_does() -> None:
    # Along the parallel through its top, a circle of 3,000 km about 35 N reaches 33.6
    # degrees of longitude either side, further than r / cos(latitude) (33.0).
    south, north, west, east = selectors._Circle(35.0, 80.0, 3000).bounds()

    assert east - 80.0 == pytest.approx(33.63, abs=0.01)
    assert 80.0 - west == pytest.approx(33.63, abs=0.01)
    assert north - 35.0 == pytest.approx(math.degrees(3000 / 6371), abs=1e-6)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    phi_a, phi_b = math.radians(a[0]), math.radians(b[0])
    cosine = math.sin(phi_a) * math.sin(phi_b) + math.cos(phi_a) * math.cos(phi_b) * math.cos(
        math.radians(b[1] - a[1])
    )
    return selectors.EARTH_RADIUS_KM * math.acos(min(1.0, cosine))


@pytest.mark.parametrize("away", [0.2, 0.5, 1.0, 3.0, 8.0])
def test_a_cells_far_corner_is_measured_not_assumed(db: None, away: float) -> None:
    """A site on a grid point is the south-west corner of its cell: seen from a centre to
    the north-east, along the cell's diagonal, it is the cell's farthest point. Circles
    whose edge passes a metre short of it and a metre beyond it tell a cell counted whole
    too soon (a reach under the cell's true one) from one measured."""
    taxonomy_load_fast()
    site = (18.5, 73.8)
    supplier = SupplierFactory(latitude=site[0], longitude=site[1])
    SupplierCapabilityFactory(supplier=supplier, capability=Capability.objects.get(code=CODES[0]))
    stats_refresh()
    centre = (site[0] + away, site[1] + away / math.cos(math.radians(site[0])))
    distance = distance_km(centre, site)

    def near(radius_km: float) -> int:
        circle = selectors._Circle(*centre, radius_km)
        counts = selectors._suppliers_near_by_cells(circle, layer=None, threshold=5)
        assert counts is not None
        return counts.get(CODES[0], 0)

    assert (near(distance - 0.001), near(distance + 0.001)) == (0, 1)
