"""Filters and search return exactly the right suppliers on a crafted data set."""

from datetime import date, timedelta
from typing import Any

import pytest

from suppliers.models import Capability, Certification, SupplierGstin, SupplierPlant
from suppliers.services import supplier_search_refresh
from tests.factories import SupplierCapabilityFactory, SupplierCertificateFactory, SupplierFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/suppliers/"
TODAY = date.today()  # noqa: DTZ011


def cap(supplier: Any, code: str, **kwargs: Any) -> None:
    SupplierCapabilityFactory(
        supplier=supplier, capability=Capability.objects.get(code=code), **kwargs
    )


def cert(supplier: Any, code: str, *, expired: bool = False, future: bool = False) -> None:
    if expired:
        window = (TODAY - timedelta(days=800), TODAY - timedelta(days=1))
    elif future:
        window = (TODAY + timedelta(days=10), TODAY + timedelta(days=400))
    else:
        window = (TODAY - timedelta(days=10), TODAY + timedelta(days=400))
    SupplierCertificateFactory(
        supplier=supplier,
        certification=Certification.objects.get(code=code),
        valid_from=window[0],
        valid_until=window[1],
    )


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    mills = SupplierFactory(
        legal_name="Chakan Powder Mills", state="MH", enterprise_size="micro", women_owned=True
    )
    cap(
        mills,
        "jet-milling",
        capacity_per_month=800,
        capacity_unit="kg_per_month",
        description="Nitrogen jet mills for NdFeB powder",
    )
    cap(mills, "sintering", capacity_per_month=2, capacity_unit="tonnes_per_month")
    cert(mills, "iso-9001")
    cert(mills, "iatf-16949", expired=True)

    coaters = SupplierFactory(
        legal_name="Hosur Surface Coatings", state="TN", enterprise_size="small", sc_st_owned=True
    )
    cap(
        coaters,
        "nicuni-coating",
        capacity_per_month=50000,
        capacity_unit="pieces_per_month",
        description="Barrel plating lines",
    )
    cap(coaters, "sintering", capacity_per_month=5000, capacity_unit="kg_per_month")
    cert(coaters, "iso-9001")
    cert(coaters, "iatf-16949")

    lab = SupplierFactory(
        legal_name="Bengaluru Magnetic Test Lab", state="KA", enterprise_size="medium"
    )
    cap(lab, "hysteresigraph-testing", capacity_per_month=400, capacity_unit="tests_per_month")
    cert(lab, "iso-iec-17025", future=True)

    pending = SupplierFactory(legal_name="Pune Pending Works", state="MH", status="pending")
    cap(pending, "jet-milling")
    suspended = SupplierFactory(legal_name="Suspended Works", state="MH", status="suspended")
    cap(suspended, "jet-milling")

    everyone = [mills, coaters, lab, pending, suspended]
    supplier_search_refresh(supplier_ids=[s.id for s in everyone])
    return {"mills": mills, "coaters": coaters, "lab": lab, "pending": pending}


def names(api_client: Any, query: str) -> set[str]:
    response = api_client.get(f"{URL}?{query}&page_size=200")
    assert response.status_code == 200, response.json()
    return {s["legal_name"] for s in response.json()["results"]}


MILLS = "Chakan Powder Mills"
COATERS = "Hosur Surface Coatings"
LAB = "Bengaluru Magnetic Test Lab"
PENDING = "Pune Pending Works"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {MILLS, COATERS, LAB, PENDING}),
        ("layer=testing", {LAB}),
        ("layer=components", {MILLS, COATERS, PENDING}),
        ("capability=jet-milling,nicuni-coating", {MILLS, COATERS, PENDING}),
        ("capability_all=jet-milling,sintering", {MILLS}),
        ("certification=iso-9001", {MILLS, COATERS}),
        ("certification=iatf-16949", {COATERS}),
        ("certification=iso-9001,iatf-16949", {COATERS}),
        ("certification=nabl", set()),
        ("state=MH", {MILLS, PENDING}),
        ("state=tn,KA", {COATERS, LAB}),
        ("enterprise_size=micro,medium", {MILLS, LAB}),
        ("women_owned=true", {MILLS}),
        ("sc_st_owned=true", {COATERS}),
        ("status=pending", {PENDING}),
        ("capacity_for=sintering&min_capacity=3&capacity_unit=tonnes_per_month", {COATERS}),
        ("capacity_for=sintering&min_capacity=1500&capacity_unit=kg_per_month", {MILLS, COATERS}),
        ("capacity_for=sintering&min_capacity=3", {COATERS}),
        ("capacity_for=jet-milling&min_capacity=900&capacity_unit=kg_per_month", {PENDING}),
        (
            "capacity_for=jet-milling&min_capacity=0.5&capacity_unit=tonnes_per_month",
            {MILLS, PENDING},
        ),
        ("q=coatings", {COATERS}),
        ("q=nitrogen powder", {MILLS}),
        ("q=hysteresigraph", {LAB}),
        ("q=BH curve", {LAB}),
        ("q=nothing-like-this", set()),
    ],
)
def test_filters(world: dict[str, Any], api_client: Any, query: str, expected: set[str]) -> None:
    assert names(api_client, query) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("layer=mining", "layer"),
        ("capability=unobtainium", "capability"),
        ("certification=iso-0000", "certification"),
        ("state=ZZ", "state"),
        ("enterprise_size=huge", "enterprise_size"),
        ("min_capacity=5", "capacity_for"),
        ("capacity_for=sintering&min_capacity=abc", "min_capacity"),
        ("ordering=gstin", "ordering"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_filter_values_are_named(world: Any, api_client: Any, query: str, field: str) -> None:
    response = api_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


def test_ordering_by_name(world: Any, api_client: Any) -> None:
    results = api_client.get(f"{URL}?ordering=legal_name").json()["results"]

    assert [s["legal_name"] for s in results] == sorted([MILLS, COATERS, LAB, PENDING])


def test_pages_of_an_ordered_list_do_not_overlap(api_client: Any) -> None:
    for _ in range(7):
        SupplierFactory(legal_name="Same Name Industries")
    seen: list[str] = []
    url: str | None = f"{URL}?ordering=legal_name&page_size=3"
    while url:
        page = api_client.get(url).json()
        seen += [s["id"] for s in page["results"]]
        url = page["next"]

    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("size", [3, 30])
def test_list_query_count_is_constant(
    api_client: Any, django_assert_max_num_queries: Any, size: int
) -> None:
    for n in range(size):
        supplier = SupplierFactory()
        cap(supplier, "jet-milling")
        cap(supplier, "sintering")
        cert(supplier, "iso-9001")
        plant = SupplierPlant.objects.create(supplier=supplier, name="Hosur", state="TN")
        plant.capabilities.set(Capability.objects.filter(code="sintering"))
        SupplierGstin.objects.create(supplier=supplier, gstin=f"27AAKCD{n:04d}K1ZX")

    # The page, its count, and one query per nested list (capabilities, certificates, the
    # certificates' scopes, GSTINs, plants, the plants' capabilities), whatever the page size.
    with django_assert_max_num_queries(8):
        response = api_client.get(f"{URL}?page_size={size}&certification=iso-9001&layer=components")

    assert len(response.json()["results"]) == size
    assert all(len(s["capabilities"]) == 2 for s in response.json()["results"])
    assert all(s["plants"][0]["capabilities"] == ["sintering"] for s in response.json()["results"])


def test_an_unknown_code_with_a_percent_sign_is_named_not_a_server_error(
    api_client: Any,
) -> None:
    response = api_client.get(f"{URL}?state=M%25s,%25(x)d")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "state"
    assert response.json()["errors"][0]["message"] == "Unknown value(s): M%S, %(X)D."


@pytest.mark.parametrize("who", ["anonymous", "owner", "operator"])
def test_a_list_page_shows_each_supplier_as_its_detail_does(
    world: dict[str, Any], api_client: Any, who: str
) -> None:
    """The list reads nested rows for the whole page (suppliers.selectors.supplier_details)
    and serialises without the nested input serializers: every supplier on it must read
    exactly as its own page does, private fields included or not, key order too."""
    from remag.accounts.choices import OrganizationKind
    from remag.accounts.models import Membership
    from tests.factories import OrganizationFactory, UserFactory

    mills = world["mills"]
    plant = SupplierPlant.objects.create(
        supplier=mills,
        name="Hosur works",
        state="TN",
        address_line="SIPCOT",
        latitude=12.7,
        longitude=77.8,
    )
    plant.capabilities.set(Capability.objects.filter(code="sintering"))
    SupplierGstin.objects.create(supplier=mills, gstin="27AAKCD1234K1ZM", state="MH")
    lab_cert = world["lab"].certificates.get()
    lab_cert.scope.set(Capability.objects.filter(code="hysteresigraph-testing"))
    if who == "owner":
        user = UserFactory()
        Membership.objects.create(user=user, organization=mills.owner)
        api_client.force_authenticate(user)
    elif who == "operator":
        user = UserFactory()
        Membership.objects.create(
            user=user, organization=OrganizationFactory(kind=OrganizationKind.OPERATOR)
        )
        api_client.force_authenticate(user)

    page = api_client.get(f"{URL}?page_size=50").json()["results"]
    assert len(page) >= 4
    for listed in page:
        detail = api_client.get(f"{URL}{listed['id']}/").json()
        assert listed == detail
        assert list(listed) == list(detail)
        assert listed["url"] == f"http://testserver{URL}{listed['id']}/"
    shown = {s["legal_name"]: s for s in page}
    assert shown["Bengaluru Magnetic Test Lab"]["certificates"][0]["scope"] == [
        "hysteresigraph-testing"
    ]
    assert shown["Chakan Powder Mills"]["plants"][0]["capabilities"] == ["sintering"]
    private = who != "anonymous"
    assert ("address_line" in shown["Chakan Powder Mills"]["plants"][0]) == private
    assert ("pan" in shown["Chakan Powder Mills"]) == private
    assert ("gstins" in shown["Chakan Powder Mills"]) == private


def test_certification_filter_keeps_the_validity_rule_on_its_boundaries(api_client: Any) -> None:
    """The filter (its own SQL on PostgreSQL, CERTIFICATE_VALID_SQL) and the model's rule
    (SupplierCertificate.is_valid_on) agree on every boundary: both days included, an
    open end (a declaration) valid from its start."""
    from django.utils import timezone

    from suppliers.models import SupplierCertificate

    today = timezone.localdate()
    windows = {
        "Ends Today": (today - timedelta(days=30), today),
        "Starts Today": (today, today + timedelta(days=30)),
        "Ended Yesterday": (today - timedelta(days=30), today - timedelta(days=1)),
        "Starts Tomorrow": (today + timedelta(days=1), today + timedelta(days=30)),
        "Open Ended": (today - timedelta(days=1), None),
    }
    certification = Certification.objects.get(code="iso-9001")
    for name, (valid_from, valid_until) in windows.items():
        SupplierCertificateFactory(
            supplier=SupplierFactory(legal_name=name),
            certification=certification,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    response = api_client.get(f"{URL}?certification=iso-9001&page_size=50")

    assert response.status_code == 200
    listed = {item["legal_name"] for item in response.json()["results"]}
    valid = {
        c.supplier.legal_name
        for c in SupplierCertificate.objects.select_related("supplier")
        if c.is_valid_on(today)
    }
    assert listed == valid == {"Ends Today", "Starts Today", "Open Ended"}
