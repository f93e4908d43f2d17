"""A request's matches are listed from plain column values (``MatchViewSet`` builds
them without ``MatchSerializer``); each must read exactly as its detail, which the
serializer writes, for every caller who may list them: the buyer and operators. Contact
details once shared, outcomes, statuses changed and matches of an older algorithm
version (named by its own factors) included."""

import json
import uuid
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.models import Match
from matching.scoring import FACTORS_BEFORE_GRADES
from remag.db import TemplateCache
from tests.conftest import walk_pages
from tests.factories import MembershipFactory
from tests.matching.conftest import World, client_for, post_request_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["buyer", "operator"])
def test_every_listed_match_reads_as_its_detail(world: World, published: Any, who: str) -> None:
    request_id = published()
    matches = list(Match.objects.filter(request_id=request_id).order_by("-score"))
    assert len(matches) >= 2
    first, second = matches[0], matches[1]
    now = timezone.now()
    Match.objects.filter(id=first.id).update(
        status="awarded", status_changed_at=now, contact_shared_at=now, outcome="good", score=100.0
    )
    old_factors = [[0.5, 0.125, 6.25] for _ in FACTORS_BEFORE_GRADES]
    Match.objects.filter(id=second.id).update(
        algorithm_version="remag-2026.11.1", factors=old_factors
    )
    client = client_for(getattr(world, who))

    listed = client.get(f"/api/v1/requests/{request_id}/matches/", {"page_size": 50})

    assert listed.status_code == 200
    items = listed.json()["results"]
    assert len(items) == len(matches)
    for item in items:
        detail = client.get(f"/api/v1/matches/{item['id']}/").json()
        assert item == detail
        assert list(item) == list(detail)
    shown = {item["id"]: item for item in items}
    assert shown[str(first.id)]["supplier"]["contact"] is not None
    assert shown[str(first.id)]["outcome"] == "good"
    assert isinstance(shown[str(first.id)]["score"], float)  # 100.0, as the detail writes it
    assert [f["name"] for f in shown[str(second.id)]["factors"]] == list(FACTORS_BEFORE_GRADES)


def test_listed_text_reads_as_the_detail_whatever_the_values(world: World, published: Any) -> None:
    """The buyer's page is written as text from the stored JSON's text: numbers in any
    notation, strings needing escapes and non-ASCII text read as the detail does."""
    from suppliers.models import Supplier

    request_id = published()
    match = Match.objects.filter(request_id=request_id).order_by("-score").first()
    factors = [[1e-07, 0.5, -0.0]] + [[123456789.125, 0.0, 1.5e300]] * (len(match.factors) - 1)
    Match.objects.filter(id=match.id).update(
        factors=factors, reasons=['quoted "name" \\ back', "tab\there", "नमस्ते ü"]
    )
    Supplier.objects.filter(id=match.supplier_id).update(
        legal_name='Ācme "Magnets" \\ Pvt\u2028Ltd', city="Chennai\n"
    )
    client = client_for(world.buyer)

    page = client.get(f"/api/v1/requests/{request_id}/matches/", {"page_size": 50})
    item = next(i for i in page.json()["results"] if i["id"] == str(match.id))
    detail = client.get(f"/api/v1/matches/{match.id}/")

    assert item == detail.json()
    # The line and paragraph separators are escaped, as DRF's renderer writes them (raw,
    # they end a line of JavaScript); other non-ASCII text is written as it is.
    assert b"Pvt\\u2028Ltd" in page.content
    assert b"Pvt\\u2028Ltd" in detail.content
    assert "\u2028".encode() not in page.content
    assert "Ā".encode() in page.content
    assert [f["value"] for f in item["factors"][:2]] == [1e-07, 123456789.125]
    assert item["supplier"]["legal_name"].startswith('Ācme "Magnets"')


def test_pages_of_matches_follow_the_cursor(world: World, published: Any) -> None:
    request_id = published()
    client = client_for(world.buyer)
    seen: list[str] = []
    url: str | None = f"/api/v1/requests/{request_id}/matches/?page_size=1"
    while url:
        page = client.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]

    expected = Match.objects.filter(request_id=request_id).order_by("-score", "supplier_id")
    assert seen == [str(m.id) for m in expected]


# The list checks the request in the matches' own query: a page with matches proves the
# request is the caller's. Every other answer must be the one reading the request gives.


def test_another_buyers_request_is_403_whatever_the_query(world: World, published: Any) -> None:
    request_id = published()
    client = client_for(world.other_buyer)
    url = f"/api/v1/requests/{request_id}/matches/"

    for query in ({}, {"min_score": "not-a-number"}, {"cursor": "tampered"}, {"min_score": 0}):
        response = client.get(url, query)
        assert response.status_code == 403, (query, response.json())
        assert "results" not in response.json()


def test_a_request_not_there_is_404_whatever_the_query(world: World) -> None:
    client = client_for(world.buyer)
    for request_id in (uuid.uuid4(), "not-a-uuid"):
        for query in ({}, {"min_score": "not-a-number"}, {"cursor": "tampered"}):
            response = client.get(f"/api/v1/requests/{request_id}/matches/", query)
            assert response.status_code == 404, (request_id, query, response.json())


def test_another_buyers_draft_is_404(world: World) -> None:
    draft = post_request_as(world.other_buyer)

    response = client_for(world.buyer).get(f"/api/v1/requests/{draft['id']}/matches/")

    assert response.status_code == 404


def test_own_request_with_no_match_in_the_filter_is_an_empty_page(
    world: World, published: Any
) -> None:
    request_id = published()
    draft = post_request_as(world.buyer)
    client = client_for(world.buyer)

    filtered = client.get(f"/api/v1/requests/{request_id}/matches/", {"min_score": 1000})
    unmatched = client.get(f"/api/v1/requests/{draft['id']}/matches/")
    bad_filter = client.get(f"/api/v1/requests/{request_id}/matches/", {"min_score": "x"})

    assert filtered.status_code == 200
    assert filtered.json() == {"next": None, "previous": None, "results": []}
    assert unmatched.status_code == 200
    assert unmatched.json()["results"] == []
    assert bad_filter.status_code == 400
    assert bad_filter.json()["errors"][0]["field"] == "min_score"


def test_a_member_of_two_organisations_lists_each_ones_matches(
    world: World, published: Any
) -> None:
    request_id = published()
    MembershipFactory(user=world.other_buyer, organization=world.buyer_org)

    response = client_for(world.other_buyer).get(f"/api/v1/requests/{request_id}/matches/")

    assert response.status_code == 200
    expected = Match.objects.filter(request_id=request_id).count()
    assert len(response.json()["results"]) == min(expected, 50)


def test_the_browsable_page_of_a_requests_matches_shows_its_filters(
    world: World, published: Any
) -> None:
    request_id = published()

    response = client_for(world.buyer).get(
        f"/api/v1/requests/{request_id}/matches/", HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 200
    assert 'name="min_score"' in response.content.decode()
    other = client_for(world.other_buyer).get(
        f"/api/v1/requests/{request_id}/matches/", HTTP_ACCEPT="text/html"
    )
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("stored", "names"),
    [
        ([], []),  # the model's default: no factor at all
        (
            [[0.5, 0.25, 12.5]] * (len(FACTORS_BEFORE_GRADES) + 2),  # more than any version
            [f"factor_{n}" for n in range(1, len(FACTORS_BEFORE_GRADES) + 3)],
        ),
    ],
)
def test_factors_that_do_not_fit_their_version_are_named_by_position(
    world: World, published: Any, stored: list[list[float]], names: list[str]
) -> None:
    """A match whose stored factors do not fit its algorithm version's names (a bug, a
    row edited by hand) is listed and shown with its factors named by position, not a
    500 for the whole page."""
    request_id = published()
    match = Match.objects.filter(request_id=request_id).first()
    Match.objects.filter(id=match.id).update(factors=stored)
    client = client_for(world.buyer)

    listed = client.get(f"/api/v1/requests/{request_id}/matches/", {"page_size": 50})
    detail = client.get(f"/api/v1/matches/{match.id}/")

    assert listed.status_code == 200
    assert detail.status_code == 200
    item = next(i for i in listed.json()["results"] if i["id"] == str(match.id))
    assert item == detail.json()
    assert [f["name"] for f in item["factors"]] == names


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "[[1.0, 0.3571, 35.71], [0.5, 0.0, 0.0]]",
        "[[-0.5, 1e-07, 1.5E+300], [null, 0, 12]]",
        "[[1,2,3],[4,5,6]]",  # not the database's spacing: read as JSON
        '[["x, y", "z", "w"], [1, 2, 3]]',  # strings: read as JSON
    ],
)
def test_stored_factors_text_is_written_as_the_json_it_holds(text: str) -> None:
    from matching.api.views import _factors_json

    triples = json.loads(text)
    written = json.loads(_factors_json("no-such-version", text))

    assert [[f["value"], f["weight"], f["contribution"]] for f in written] == triples
    assert [f["name"] for f in written] == [f"factor_{n}" for n in range(1, len(triples) + 1)]


def test_a_page_leaves_its_rows_to_reference_counting(world: World, published: Any) -> None:
    """Once written, a page's rows are not held in the cycle DRF makes between the view
    and the request: freeing them does not wait for the cyclic collector, whose pauses
    grow with what it must free (a page of opportunities: p99 110 ms to 35 ms)."""
    import gc

    request_id = published()
    client = client_for(world.buyer)
    url = f"/api/v1/requests/{request_id}/matches/"
    client.get(url)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = client.get(url)
        gc.collect()
        unreachable = {str(o) for o in gc.garbage if isinstance(o, uuid.UUID)}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

    listed = {item["id"] for item in response.json()["results"]}
    assert listed
    assert not listed & unreachable


def _many_matches(request_id: str) -> None:
    """Twenty more matches of the request: tied and distinct scores, every status, some
    no longer qualifying, one shared contact."""
    from tests.factories import SupplierFactory

    template = Match.objects.filter(request_id=request_id).first()
    assert template is not None
    statuses = ["proposed", "shortlisted", "invited", "interested", "declined"]
    for n in range(20):
        Match.objects.create(
            request_id=request_id,
            supplier=SupplierFactory(),
            score=[50.0, 61.25, 61.25, 72.5][n % 4] + (n // 4),
            factors=template.factors,
            reasons=template.reasons,
            algorithm_version=template.algorithm_version,
            scored_at=template.scored_at,
            status=statuses[n % 5],
            qualifies=n % 3 != 0,
            contact_shared_at=timezone.now() if n == 7 else None,
        )


QUERIES = [
    {},
    {"page_size": 3},
    {"page_size": 4, "min_score": "61.25"},
    {"page_size": 2, "status": ["proposed", "invited"]},
    {"page_size": 5, "status": "declined", "qualifies": "true"},
    {"page_size": 3, "qualifies": "false", "min_score": 0},
    {"page_size": 7, "status": ["interested", "shortlisted", "proposed"], "min_score": "55.5"},
    {"page_size": 6, "status": ["invited", "proposed", "invited", "invited"]},
]


@pytest.mark.parametrize("who", ["buyer", "operator", "two organisations"])
def test_compiled_pages_read_as_the_querysets_own(
    postgres: None, world: World, published: Any, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of a request's matches, its SQL compiled once per shape with stand-ins for
    the values, reads as the page the queryset itself reads: every filter, each page
    forwards and back again, for each kind of caller."""
    from matching.api import views

    request_id = published()
    _many_matches(request_id)
    user = {"buyer": world.buyer, "operator": world.operator}.get(who, world.other_buyer)
    if who == "two organisations":
        MembershipFactory(user=world.other_buyer, organization=world.buyer_org)
    client = client_for(user)

    def walk(query: dict[str, Any]) -> list[Any]:
        return walk_pages(client, f"/api/v1/requests/{request_id}/matches/", query)

    from remag.db import SqlTemplate

    monkeypatch.setattr(views, "_match_page_templates", TemplateCache(256))
    runs = []
    rows = SqlTemplate.rows
    monkeypatch.setattr(
        SqlTemplate, "rows", lambda self, values: runs.append(1) or rows(self, values)
    )
    compiled = {}
    for query in QUERIES:
        before = len(runs)
        compiled[json.dumps(query)] = walk(query)
        assert len(runs) - before == len(compiled[json.dumps(query)]), query  # every page
    monkeypatch.setattr(views._match_page_templates, "get", lambda key, default: None)
    for query in QUERIES:
        assert walk(query) == compiled[json.dumps(query)], query
    assert any(len(page["results"]) for pages in compiled.values() for page in pages)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet="ab1[], ", max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(_SCALARS, min_size=0, max_size=4),
            st.lists(st.lists(_SCALARS, max_size=3), max_size=3),
            _SCALARS,
        ),
        max_size=6,
    )
)
def test_stored_factors_are_split_as_the_regular_expression_says(stored: list[Any]) -> None:
    """The numbers of stored factors are taken from PostgreSQL's text of the jsonb (JSON
    with ", " between items) without a regular expression: for any JSON array, the split
    must answer exactly what ``_FACTORS_TEXT`` accepts, and nothing else."""
    from matching.api.views import _FACTORS_TEXT, _factors_numbers

    text = json.dumps(stored, separators=(", ", ": "))
    expected = None
    if _FACTORS_TEXT.fullmatch(text):
        expected = text[2:-2].replace("], [", ", ").split(", ") if text != "[]" else []
    assert _factors_numbers(text) == expected
