"""The supplier list's pages are built by PostgreSQL (``suppliers.selectors.
supplier_list_json``) or read from stored representations (``suppliers.representations``),
the detail by ``SupplierSerializer``: the same supplier must read the same through all
three, for every kind of caller and every shape of profile (private fields, plants'
addresses, legacy GSTINs, scopes, expired, future and open-ended certificates, undated
and stale classifications, approximate locations, nulls). Every test runs twice: with no
stored representation (built live) and with every one stored."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from remag.accounts.models import Delegation
from remag.db import TemplateCache
from suppliers import representations
from suppliers.models import (
    Capability,
    Certification,
    Supplier,
    SupplierGstin,
    SupplierPlant,
)
from tests.conftest import client_with, walk_pages
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    SupplierCapabilityFactory,
    SupplierCertificateFactory,
    SupplierFactory,
    gstin_for,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

URL = "/api/v1/suppliers/"


@pytest.fixture(params=["live", "stored"])
def registry(request: pytest.FixtureRequest) -> dict[str, Any]:
    world = _registry()
    if request.param == "stored":
        ids = list(Supplier.objects.values_list("id", flat=True))
        assert representations.representations_refresh(ids) == len(ids)
        assert representations.representations_stale(limit=100) == []
    else:
        assert len(representations.representations_stale(limit=100)) == Supplier.objects.count()
    return world


def _registry() -> dict[str, Any]:
    today = timezone.localdate()
    portal = OrganizationFactory(kind="portal")
    delegate = OrganizationFactory(kind="portal")
    owned = SupplierFactory(
        legal_name="Deccan Magnetics Private Limited",
        pan="AAKCD1234K",
        gstin=gstin_for("27", "AAKCD1234K"),
        investment_inr="12500000.50",
        turnover_inr=None,
        classification_year=today.year - 3,
        latitude=18.76,
        longitude=73.86,
        contact_email="asha@deccan.example.in",
        address_line="Plot 7, MIDC Chakan",
        status_reason="",
        verified_at=timezone.now().replace(microsecond=0),
    )
    SupplierGstin.objects.create(
        supplier=owned, gstin=owned.gstin, label="Chakan works", state="MH", position=0
    )
    SupplierCapabilityFactory(supplier=owned, grades=["n48h", "n52"], materials=["NdFeB"])
    SupplierCapabilityFactory(
        supplier=owned,
        capability=Capability.objects.get(code="sintering"),
        capacity_per_month="3.5",
        capacity_unit="tonnes_per_month",
        minimum_order=None,
        description='Vacuum sintering, 2 furnaces. «ग्रेड» "quoted" \\ back',
    )
    SupplierCertificateFactory(supplier=owned)
    SupplierCertificateFactory(  # expired
        supplier=owned,
        certification=Certification.objects.get(code="iso-14001"),
        valid_from=today - timedelta(days=800),
        valid_until=today - timedelta(days=1),
    )
    lab = SupplierCertificateFactory(
        supplier=owned,
        certification=Certification.objects.get(code="iso-iec-17025"),
        valid_until=None,
    )
    lab.scope.set(Capability.objects.filter(code__in=["sintering", "jet-milling"]))
    plant = SupplierPlant.objects.create(
        supplier=owned,
        name="Hosur",
        city="Hosur",
        district="Krishnagiri",
        state="TN",
        pin_code="635109",
        address_line="SIPCOT Phase II",
        latitude=12.74,
        longitude=77.83,
    )
    plant.capabilities.set(Capability.objects.filter(code="sintering"))
    SupplierPlant.objects.create(supplier=owned, name="Chakan", state="MH")
    legacy = SupplierFactory(  # a primary GSTIN with no GSTIN rows; unclaimed, onboarded
        pan="AABCL1234M",
        gstin=gstin_for("33", "AABCL1234M"),
        claimed_at=None,
        onboarded_by=portal,
        state="TN",
        classification_year=None,
        year_established=None,
        employees=None,
    )
    SupplierCertificateFactory(supplier=legacy, valid_from=today + timedelta(days=3))
    delegated = SupplierFactory(state="KA", classification_year=today.year, status="pending")
    Delegation.objects.create(grantor=delegated.owner, grantee=delegate)
    bare = SupplierFactory(state="DL", created_at=timezone.now().replace(microsecond=0))
    Supplier.objects.filter(id=bare.id).update(
        created_at=timezone.now().replace(microsecond=0) - timedelta(days=1)
    )
    return {
        "owned": owned,
        "legacy": legacy,
        "delegated": delegated,
        "portal": portal,
        "delegate": delegate,
    }


def _client(kind: str, registry: dict[str, Any], user_client: Any, operator: Any) -> Any:
    if kind == "anonymous":
        return client_with()
    if kind == "operator":
        return user_client(operator)
    organization = {
        "owner": registry["owned"].owner,
        "onboarding portal": registry["portal"],
        "delegate": registry["delegate"],
        "unrelated": OrganizationFactory(kind="sme"),
    }[kind]
    return user_client(MembershipFactory(organization=organization, role="admin").user)


@pytest.mark.parametrize(
    "kind", ["anonymous", "owner", "onboarding portal", "delegate", "operator", "unrelated"]
)
def test_every_list_item_reads_as_its_detail(
    kind: str, registry: dict[str, Any], user_client: Any, operator: Any
) -> None:
    client = _client(kind, registry, user_client, operator)

    listed = client.get(URL, {"page_size": 10})

    assert listed.status_code == 200, listed.content
    assert listed["Content-Type"] == "application/json"
    items = listed.json()["results"]
    assert len(items) == Supplier.objects.count()
    for item in items:
        detail = client.get(f"{URL}{item['id']}/")
        assert detail.status_code == 200
        assert item == detail.json()
        assert list(item) == list(detail.json())  # the keys' order too


def test_private_fields_follow_the_rule(
    registry: dict[str, Any], user_client: Any, operator: Any
) -> None:
    def private_ids(kind: str) -> set[str]:
        items = _client(kind, registry, user_client, operator).get(URL).json()["results"]
        return {item["id"] for item in items if "pan" in item}

    assert private_ids("anonymous") == set()
    assert private_ids("unrelated") == set()
    assert private_ids("owner") == {str(registry["owned"].id)}
    assert private_ids("onboarding portal") == {str(registry["legacy"].id)}
    assert private_ids("delegate") == {str(registry["delegated"].id)}
    assert private_ids("operator") == {str(s.id) for s in Supplier.objects.all()}


def test_the_shapes_are_the_serializers(registry: dict[str, Any], user_client: Any) -> None:
    client = _client("owner", registry, user_client, None)
    items = {item["id"]: item for item in client.get(URL).json()["results"]}
    owned = items[str(registry["owned"].id)]

    assert [c["capability"] for c in owned["capabilities"]] == ["jet-milling", "sintering"]
    assert owned["capabilities"][1]["capacity_per_month"] == "3.500"
    assert owned["capabilities"][1]["minimum_order"] is None
    validity = {c["certification"]: c["is_valid"] for c in owned["certificates"]}
    assert validity == {"iso-14001": False, "iso-9001": True, "iso-iec-17025": True}
    lab = next(c for c in owned["certificates"] if c["certification"] == "iso-iec-17025")
    assert lab["scope"] == ["jet-milling", "sintering"]
    assert lab["valid_until"] is None
    assert [p["name"] for p in owned["plants"]] == ["Chakan", "Hosur"]
    assert owned["plants"][1]["address_line"] == "SIPCOT Phase II"
    assert owned["plants"][1]["capabilities"] == ["sintering"]
    assert owned["classification_stale"] is True
    assert owned["investment_inr"] == "12500000.50"
    assert owned["verified_at"].endswith("+05:30")


def test_pages_follow_the_cursor_through_every_supplier(registry: dict[str, Any]) -> None:
    client = client_with()
    seen: list[str] = []
    url: str | None = f"{URL}?page_size=2&ordering=legal_name"
    while url:
        page = client.get(url).json()
        seen += [item["legal_name"] for item in page["results"]]
        url = page["next"]

    assert seen == sorted(Supplier.objects.values_list("legal_name", flat=True))


@pytest.mark.parametrize(
    "ordering", ["-created_at", "created_at", "updated_at", "-employees", "employees", "legal_name"]
)
def test_cursors_walk_every_ordering_both_ways(ordering: str) -> None:
    """The page's position is read as PostgreSQL's text of the ordering field, not as a
    Python value: walking forward, then back by ``previous``, must visit every supplier
    once each way, across ties of a date-time (several suppliers created in one
    microsecond), sub-second and whole-second date-times, and nulls (``employees``)."""
    moment = timezone.now().replace(microsecond=0)
    for n in range(7):
        supplier = SupplierFactory(employees=None if n % 3 == 0 else 10 + n % 2)
        # Three suppliers share one instant; the others are a whole second or 1 µs apart.
        created = moment if n < 3 else moment + timedelta(seconds=n, microseconds=n % 2)
        Supplier.objects.filter(id=supplier.id).update(created_at=created, updated_at=created)
    client = client_with()
    field = ordering.lstrip("-")
    # The list's order: nulls highest, ties broken by id in the ordering's direction.
    if ordering.startswith("-"):
        order_by = [F(field).desc(nulls_first=True), F("id").desc()]
    else:
        order_by = [F(field).asc(nulls_last=True), F("id").asc()]
    expected = [
        str(sid) for sid in Supplier.objects.order_by(*order_by).values_list("id", flat=True)
    ]
    pages: list[list[str]] = []
    url: str | None = f"{URL}?page_size=2&ordering={ordering}"
    last: dict[str, Any] = {}
    while url:
        last = client.get(url).json()
        pages.append([item["id"] for item in last["results"]])
        url = last["next"]
    forward = [sid for page in pages for sid in page]
    assert forward == expected
    backward: list[list[str]] = []
    url = last["previous"]
    while url:
        page = client.get(url).json()
        backward.append([item["id"] for item in page["results"]])
        url = page["previous"]
    assert [sid for page in reversed(backward) for sid in page] == forward[: -len(pages[-1])]


# Queries whose page _list_rows compiles once per shape, and two it must not.
COMPILED_QUERIES: list[dict[str, str]] = [
    {},
    {"layer": "components"},
    {"capability": "jet-milling,sintering"},
    {"capability": "sintering,sintering"},  # a repeated code is one value
    {"capability_all": "sintering,jet-milling"},
    {"certification": "iso-9001"},
    {"certification": "iso-9001,nabl"},  # nabl reads as iso-iec-17025
    {"state": "MH,tn,TN", "enterprise_size": "micro,small"},
    {"status": "pending,active"},
    {"women_owned": "true"},
    {"women_owned": "false", "sc_st_owned": "false", "layer": "components"},
    {"pin_code": "635109"},
    {"ordering": "legal_name"},
    {"ordering": "-employees", "state": "TN,KA,DL,MH"},
    {"ordering": "year_established", "layer": "components"},
    {"ordering": "-updated_at", "certification": "iso-9001"},
]
QUERYSET_QUERIES: list[dict[str, str]] = [
    {"q": "magnets"},
    {"capacity_for": "sintering", "min_capacity": "1", "capacity_unit": "tonnes_per_month"},
]


def test_compiled_pages_read_as_the_querysets_for_every_caller_and_filter(
    registry: dict[str, Any],
    user_client: Any,
    operator: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    """A list page read through its SQL compiled once per shape (``_list_rows``, with
    stand-ins for the caller's organisations, the filters' values, the URL and the
    cursor's position) must equal the page the queryset reads, walking every page
    forwards and back, for callers of each kind; shapes are shared between callers
    (the owner's template serves the delegate), so a value substituted in the wrong
    place shows. Every page of a compiled query goes through its template, and no page
    of a search or a capacity filter does."""
    from remag.db import SqlTemplate
    from suppliers.api import views

    settings.REMAG_THROTTLE_RATES = dict.fromkeys(settings.REMAG_THROTTLE_RATES, "100000/minute")
    today = timezone.localdate()
    sintering = Capability.objects.get(code="sintering")
    for n, (state, size, women, status, active) in enumerate(
        [
            ("TN", "micro", True, "active", True),
            ("TN", "small", False, "pending", True),
            ("KA", "micro", True, "suspended", True),
            ("MH", "medium", False, "active", False),
            ("DL", "small", True, "active", True),
        ]
    ):
        supplier = SupplierFactory(
            state=state,
            enterprise_size=size,
            women_owned=women,
            status=status,
            is_active=active,
            employees=None if n % 2 else 10 * n,
            year_established=None if n == 2 else 1990 + n,
            owner=registry["owned"].owner if n == 3 else OrganizationFactory(kind="sme"),
        )
        SupplierCapabilityFactory(supplier=supplier, capability=sintering)
        if n % 2 == 0:
            SupplierCapabilityFactory(supplier=supplier)  # jet-milling
            SupplierCertificateFactory(supplier=supplier, valid_until=today + timedelta(days=n))
    monkeypatch.setattr(views, "_list_templates", TemplateCache(256))
    runs: list[int] = []
    rows = SqlTemplate.rows
    monkeypatch.setattr(
        SqlTemplate, "rows", lambda self, values: runs.append(1) or rows(self, values)
    )
    # Only the queryset's way paginates a queryset.
    by_queryset: list[int] = []
    paginate = views.SupplierViewSet.paginate_queryset
    monkeypatch.setattr(
        views.SupplierViewSet,
        "paginate_queryset",
        lambda self, queryset: by_queryset.append(1) or paginate(self, queryset),
    )

    def walk(client: Any, query: dict[str, str]) -> list[Any]:
        return walk_pages(client, URL, {**query, "page_size": "2"})

    compiled: dict[tuple[str, str], list[Any]] = {}
    kinds = ["anonymous", "owner", "delegate", "onboarding portal", "operator"]
    clients = {kind: _client(kind, registry, user_client, operator) for kind in kinds}
    for kind, client in clients.items():
        for query in COMPILED_QUERIES + QUERYSET_QUERIES:
            before, queryset_before = len(runs), len(by_queryset)
            pages = compiled[kind, repr(query)] = walk(client, query)
            by_template, by_query = len(runs) - before, len(by_queryset) - queryset_before
            if query in COMPILED_QUERIES:
                # (A page past the last row is known empty without SQL.)
                assert by_query == 0, (kind, query)
                assert by_template >= len(pages) - 1, (kind, query)
            else:
                assert by_template == 0, (kind, query)
                assert by_query == len(pages), (kind, query)
    assert any(page["results"] for pages in compiled.values() for page in pages)
    monkeypatch.setattr(views._list_templates, "get", lambda key, default: None)
    for kind, client in clients.items():
        for query in COMPILED_QUERIES + QUERYSET_QUERIES:
            assert walk(client, query) == compiled[kind, repr(query)], (kind, query)


def test_a_bad_filter_or_cursor_is_still_refused_on_the_compiled_way() -> None:
    client = client_with()
    assert client.get(URL, {"layer": "components"}).status_code == 200
    for query, field in (
        ({"layer": "nonsense"}, "layer"),
        ({"capability": "no-such-capability"}, "capability"),
        ({"state": "ZZ"}, "state"),
        ({"women_owned": "perhaps"}, "women_owned"),
        ({"layer": "components", "sc_st_owned": "yes"}, "sc_st_owned"),
        ({"ordering": "pan"}, "ordering"),
        ({"layer": "components", "cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ):
        response = client.get(URL, query)
        assert response.status_code == 400, (query, response.content)
        assert field in json.dumps(response.json()), (query, response.json())
