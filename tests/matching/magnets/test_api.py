"""Magnet offers and requirements through the API: ranked, explained offers for the buyer,
leads for the maker (the buyer's name only after it is interested), near misses,
validation problems naming fields, pagination, idempotency and rescoring on change."""

from typing import Any

import pytest
from django.utils import timezone

from matching.magnets import candidates
from matching.magnets.models import MagnetMatch, MagnetRequirement
from remag.webhooks.models import Event, EventAudience
from tests.matching.magnets.conftest import (
    Market,
    client_for,
    make_offer,
    make_requirement,
    offer_body,
    post_offer,
    post_requirement,
    requirement_body,
    run_queued,
)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_a_requirement_gets_ranked_explained_offers_and_the_maker_a_lead(market: Market) -> None:
    near = post_offer(market.maker)
    slow = post_offer(market.other_maker, lead_time_days=90, plant_state="MH",
                      plant_latitude=18.52, plant_longitude=73.85)  # fmt: skip
    requirement = post_requirement(market.buyer)

    buyer = client_for(market.buyer)
    matches = buyer.get(requirement["matches_url"]).json()["results"]
    assert [m["offer"]["id"] for m in matches] == [near["id"], slow["id"]]
    best = matches[0]
    assert best["offer"]["maker"]["name"] == "Kaveri"
    assert round(sum(100 * f["contribution"] for f in best["factors"])) == round(
        100 * best["score"]
    )
    assert "offers N42SH, compatible with N42SH" in best["reasons"]
    assert best["buyer"]["name"] == "Rotor Works"  # the buyer sees itself

    maker = client_for(market.maker)
    (lead,) = maker.get(near["leads_url"]).json()["results"]
    assert lead["requirement"]["id"] == requirement["id"]
    assert lead["requirement"]["grade"] == "n42sh"
    assert lead["buyer"] is None  # not before the buyer says interested
    assert {f["name"] for f in lead["factors"]} == {
        "capacity_headroom",
        "lead_time",
        "track_record",
        "preferred_certifications",
    }
    assert all(f["weight"] is None for f in lead["factors"])
    assert not any("budget" in r or "km from" in r for r in lead["reasons"])
    assert "delivery_latitude" not in lead["requirement"]

    moved = buyer.post(f"{best['url']}transitions/", {"status": "interested"}, format="json")
    assert moved.status_code == 201, moved.json()
    (lead,) = maker.get("/api/v1/magnets/leads/").json()["results"]
    assert lead["buyer"]["name"] == "Rotor Works"
    accepted = maker.post(f"{best['url']}transitions/", {"status": "accepted"}, format="json")
    assert accepted.json()["status"] == "accepted"
    assert Event.objects.filter(type="magnet_match.answered").count() == 1
    outcome = buyer.post(f"{best['url']}outcome/", {"outcome": "good"}, format="json")
    assert outcome.json()["outcome"] == "good"


def test_an_offer_published_later_finds_the_open_requirement(market: Market) -> None:
    requirement = post_requirement(market.buyer)
    assert client_for(market.buyer).get(requirement["matches_url"]).json()["results"] == []
    offer = post_offer(market.maker)
    matches = client_for(market.buyer).get(requirement["matches_url"]).json()["results"]
    assert [m["offer"]["id"] for m in matches] == [offer["id"]]
    withdrawn = client_for(market.maker).post(f"{offer['url']}withdraw/")
    assert withdrawn.json()["status"] == "withdrawn"
    assert client_for(market.buyer).get(requirement["matches_url"]).json()["results"] == []


def test_near_misses_name_their_one_constraint(market: Market) -> None:
    small = post_offer(
        market.maker,
        shapes=[{"shape": "arc", "min_mm": 2, "max_mm": 40, "tolerance_mm": 0.05}],
    )
    requirement = post_requirement(
        market.buyer,
        dimensions={"outer_radius_mm": 52, "inner_radius_mm": 47, "angle_deg": 30,
                    "length_mm": 40},
    )  # fmt: skip
    misses = client_for(market.buyer).get(f"{requirement['url']}near-misses/").json()["results"]
    assert [(m["offer"]["id"], m["constraint"], m["reason"]) for m in misses] == [
        (small["id"], "size", "offers arcs only up to 40 mm (needs 52 mm)")
    ]
    gaps = client_for(market.maker).get(f"{small['url']}near-misses/").json()["results"]
    assert [g["constraint"] for g in gaps] == ["size"]


def test_changing_an_open_requirement_rescores_it(market: Market) -> None:
    post_offer(market.maker)
    requirement = post_requirement(market.buyer)
    buyer = client_for(market.buyer)
    changed = buyer.patch(requirement["url"], {"grade": "N48UH"}, format="json")
    assert changed.status_code == 200, changed.json()
    run_queued()
    assert buyer.get(requirement["matches_url"]).json()["results"] == []
    (miss,) = buyer.get(f"{requirement['url']}near-misses/").json()["results"]
    assert miss["reason"] == "offers no grade compatible with N48UH (highest offered: N38UH)"


def test_pieces_are_converted_and_derived_fields_filled(market: Market) -> None:
    requirement = post_requirement(market.buyer, quantity_per_month="10000", quantity_unit="pieces")
    assert requirement["piece_mass_g"] == pytest.approx(32.3977, rel=1e-4)
    assert requirement["quantity_kg_per_month"] == "323.977"
    assert (requirement["energy_class"], requirement["temperature_class"]) == (42, "sh")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grade": "N99XX"}, "grade"),
        ({"grade": "Sm2Co17"}, "grade"),  # not a sintered NdFeB grade
        ({"dimensions": {"length_mm": 10}}, "dimensions"),
        ({"shape": "ring", "dimensions": {"outer_diameter_mm": 10, "inner_diameter_mm": 12,
                                          "thickness_mm": 3}}, "dimensions.inner_diameter_mm"),
        ({"quantity_per_month": "0"}, "quantity_per_month"),
        ({"duration_months": 0}, "duration_months"),
        ({"coating": "gold"}, "coating"),
        ({"required_certifications": ["nope"]}, "required_certifications"),
        ({"delivery_latitude": 12.9, "delivery_longitude": None}, "delivery_longitude"),
        ({"tolerance_mm": "-1"}, "tolerance_mm"),
        # Absurd sizes: below an offer's 0.1 mm, and 2000 mm cubes x 2,000,000 a month
        # (60 t a piece: 1.2e11 kg a month, past MAX_KG_PER_MONTH and the column).
        ({"dimensions": {"outer_radius_mm": 30, "inner_radius_mm": 25, "angle_deg": 45,
                         "length_mm": 1e-300}}, "dimensions.length_mm"),
        ({"shape": "block", "dimensions": {"length_mm": 2000, "width_mm": 2000,
                                           "thickness_mm": 2000},
          "quantity_per_month": "2000000", "quantity_unit": "pieces"}, "quantity_per_month"),
        ({"quantity_per_month": "10000001"}, "quantity_per_month"),
    ],
)  # fmt: skip
def test_bad_requirements_are_problems_naming_the_field(
    market: Market, body: dict[str, Any], field: str
) -> None:
    response = client_for(market.buyer).post(
        "/api/v1/magnets/requirements/", requirement_body(**body), format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith(PROBLEM)
    fields = [error["field"] for error in response.json()["errors"]]
    assert field in fields, response.json()
    assert MagnetRequirement.objects.count() == 0


def test_a_change_of_unit_or_shape_alone_is_checked_against_the_cap(market: Market) -> None:
    created = post_requirement(
        market.buyer, open_it=False, quantity_per_month="5000000", quantity_unit="kg"
    )
    response = client_for(market.buyer).patch(
        created["url"], {"quantity_unit": "pieces"}, format="json"
    )
    # 5,000,000 pieces of 32.4 g: 162,000 kg a month, within the cap.
    assert response.status_code == 200, response.json()
    huge = client_for(market.buyer).patch(
        created["url"],
        {"shape": "disc", "dimensions": {"diameter_mm": 2000, "thickness_mm": 2000}},
        format="json",
    )
    assert huge.status_code == 400
    assert [e["field"] for e in huge.json()["errors"]] == ["quantity_per_month"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grades": ["N42SH", "BNP-10"]}, "grades"),
        ({"shapes": [{"shape": "arc", "min_mm": 10, "max_mm": 5, "tolerance_mm": 0.1}]},
         "shapes[0].max_mm"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"price_max_inr_per_kg": None}, "price_max_inr_per_kg"),
        ({"capacity_unit": "tonnes"}, "capacity_unit"),
    ],
)  # fmt: skip
def test_bad_offers_are_problems_naming_the_field(
    market: Market, body: dict[str, Any], field: str
) -> None:
    response = client_for(market.maker).post(
        "/api/v1/magnets/offers/", offer_body(**body), format="json"
    )
    assert response.status_code == 400
    fields = [error["field"] for error in response.json()["errors"]]
    assert field in fields, response.json()


def test_a_requirement_create_is_idempotent(market: Market) -> None:
    client = client_for(market.buyer)
    first = client.post(
        "/api/v1/magnets/requirements/",
        requirement_body(),
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-1",
    )
    again = client.post(
        "/api/v1/magnets/requirements/",
        requirement_body(),
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-1",
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert MagnetRequirement.objects.count() == 1


def test_ranked_offers_page_with_cursors(market: Market) -> None:
    for days in (10, 20, 30, 40, 50):
        post_offer(market.maker, lead_time_days=days)
    requirement = post_requirement(market.buyer)
    client = client_for(market.buyer)
    first = client.get(requirement["matches_url"], {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    seen = [m["id"] for page in (first, second, third) for m in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    assert third["next"] is None
    scores = [m["score"] for page in (first, second, third) for m in page["results"]]
    assert scores == sorted(scores, reverse=True)


def test_lifecycle_conflicts_are_409(market: Market) -> None:
    requirement = post_requirement(market.buyer)
    client = client_for(market.buyer)
    assert client.post(f"{requirement['url']}open/").status_code == 409
    assert client.post(f"{requirement['url']}close/").json()["status"] == "closed"
    assert client.patch(requirement["url"], {"title": "x"}, format="json").status_code == 409
    offer = post_offer(market.maker, publish=False)
    maker = client_for(market.maker)
    assert maker.post(f"{offer['url']}withdraw/").status_code == 200
    assert maker.post(f"{offer['url']}publish/").status_code == 409


def test_the_maker_cannot_make_the_buyers_move(market: Market) -> None:
    post_offer(market.maker)
    post_requirement(market.buyer)
    match = MagnetMatch.objects.get()
    maker = client_for(market.maker)
    url = f"/api/v1/magnets/matches/{match.id}/transitions/"
    assert maker.post(url, {"status": "interested"}, format="json").status_code == 403
    assert maker.post(url, {"status": "accepted"}, format="json").status_code == 409


def test_the_events_of_the_market_are_recorded(market: Market) -> None:
    offer = post_offer(market.maker)
    requirement = post_requirement(market.buyer)
    client_for(market.buyer).post(f"{requirement['url']}close/")
    client_for(market.maker).post(f"{offer['url']}withdraw/")
    types = list(Event.objects.order_by("occurred_at", "id").values_list("type", flat=True))
    for expected in (
        "magnet_offer.published",
        "magnet_run.succeeded",
        "magnet_requirement.opened",
        "magnet_requirement.closed",
        "magnet_offer.withdrawn",
    ):
        assert expected in types
    opened = Event.objects.get(type="magnet_requirement.opened")
    audience = EventAudience.objects.filter(event=opened).values_list("organization_id", flat=True)
    assert list(audience) == [market.buyer_org.id]


def test_a_dismissal_is_the_buyers_own_event(market: Market) -> None:
    post_offer(market.maker)
    requirement = post_requirement(market.buyer)
    (match,) = client_for(market.buyer).get(requirement["matches_url"]).json()["results"]
    moved = client_for(market.buyer).post(
        f"{match['url']}transitions/", {"status": "dismissed"}, format="json"
    )
    assert moved.json()["status"] == "dismissed"
    event = Event.objects.get(type="magnet_match.dismissed")
    audience = EventAudience.objects.filter(event=event).values_list("organization_id", flat=True)
    assert list(audience) == [market.buyer_org.id]
    assert (
        client_for(market.maker)
        .post(f"{match['url']}transitions/", {"status": "accepted"}, format="json")
        .status_code
        == 409
    )


def test_a_draft_requirement_is_previewed_but_is_nobodys_lead(market: Market) -> None:
    offer = post_offer(market.maker)
    draft = post_requirement(market.buyer, open_it=False)
    buyer = client_for(market.buyer)
    assert buyer.post(f"{draft['url']}runs/").status_code == 202
    run_queued()
    (match,) = buyer.get(draft["matches_url"]).json()["results"]
    maker = client_for(market.maker)
    assert maker.get(offer["leads_url"]).json()["results"] == []
    assert maker.get("/api/v1/magnets/leads/").json()["results"] == []
    assert maker.get(f"/api/v1/magnets/matches/{match['id']}/").status_code == 404


def test_ended_offers_expire_and_leave_the_market(market: Market) -> None:
    from datetime import timedelta

    from matching.magnets import runs
    from tests.matching.magnets.conftest import today

    offer = post_offer(market.maker, valid_until=(today() + timedelta(days=5)).isoformat())
    requirement = post_requirement(
        market.buyer, needed_from=(today() + timedelta(days=3)).isoformat()
    )
    assert MagnetMatch.objects.count() == 1
    assert runs.offers_expire(day=today()) == []
    assert runs.offers_expire(day=today() + timedelta(days=6)) == [offer["id"]]
    assert client_for(market.maker).get(offer["url"]).json()["status"] == "expired"
    assert client_for(market.buyer).get(requirement["matches_url"]).json()["results"] == []
    assert Event.objects.filter(type="magnet_offer.expired").count() == 1


def test_a_maker_is_never_matched_with_its_own_requirements(market: Market) -> None:
    """No self-leads, and no track record from outcomes a maker records on itself."""
    own_offer = make_offer(market.maker_org)
    own_need = make_requirement(market.maker_org)  # the maker buys magnets too
    make_offer(market.maker_org, title="a second offer, after the requirement")
    theirs = make_requirement(market.buyer_org)
    assert not MagnetMatch.objects.filter(requirement=own_need).exists()
    assert not own_need.near_misses.exists()
    owners = MagnetMatch.objects.filter(requirement=theirs).values_list("offer__owner", flat=True)
    assert set(owners) == {market.maker_org.id}
    # A self-pair made before the rule (or by hand) with good outcomes counts for nothing.
    for _ in range(3):
        MagnetMatch.objects.create(
            requirement=own_need, offer=own_offer, score=90, algorithm_version="x",
            scored_at=timezone.now(), status="accepted", outcome="good",
        )  # fmt: skip
        own_offer = make_offer(market.maker_org)
    MagnetMatch.objects.filter(requirement=theirs).update(status="accepted", outcome="poor")
    assert candidates.track_records([market.maker_org.id]) == {
        str(market.maker_org.id): (
            float(MagnetMatch.objects.filter(requirement=theirs).count()),
            0.0,
        )
    }


def test_an_offer_leaving_the_market_tells_its_interested_and_accepted_buyers(
    market: Market,
) -> None:
    from datetime import timedelta

    from matching.magnets import runs
    from tests.matching.magnets.conftest import today

    withdrawn = post_offer(market.maker)
    ending = post_offer(market.other_maker, valid_until=(today() + timedelta(days=5)).isoformat())
    soon = (today() + timedelta(days=3)).isoformat()  # inside the ending offer's window
    requirement = post_requirement(market.buyer, needed_from=soon)
    other = post_requirement(market.other_buyer, needed_from=soon)
    buyer = client_for(market.buyer)
    assert len(buyer.get(requirement["matches_url"]).json()["results"]) == 2
    for match in buyer.get(requirement["matches_url"]).json()["results"]:
        moved = buyer.post(f"{match['url']}transitions/", {"status": "interested"}, format="json")
        assert moved.status_code == 201
    # The other buyer's matches stay proposed: nobody acted, nobody is told.
    assert len(client_for(market.other_buyer).get(other["matches_url"]).json()["results"]) == 2

    assert client_for(market.maker).post(f"{withdrawn['url']}withdraw/").status_code == 200
    (event,) = Event.objects.filter(type="magnet_match.offer_ended")
    assert event.payload["offer_status"] == "withdrawn"
    assert event.payload["magnet_match"]["offer"] == withdrawn["id"]
    assert event.payload["magnet_match"]["requirement"] == requirement["id"]
    audience = EventAudience.objects.filter(event=event).values_list("organization_id", flat=True)
    assert set(audience) == {market.buyer_org.id, market.maker_org.id}

    assert runs.offers_expire(day=today() + timedelta(days=6)) == [ending["id"]]
    expired = Event.objects.filter(type="magnet_match.offer_ended").exclude(id=event.id).get()
    assert expired.payload["offer_status"] == "expired"
    assert expired.payload["magnet_match"]["requirement"] == requirement["id"]
    audience = EventAudience.objects.filter(event=expired).values_list("organization_id", flat=True)
    assert set(audience) == {market.buyer_org.id, market.other_maker_org.id}


def test_a_maker_with_a_supplier_profile_holds_only_its_valid_registered_certificates(
    market: Market,
) -> None:
    """Declared certifications count as declared for a maker without a supplier profile;
    a maker with one holds only those registered with a certificate valid today."""
    from datetime import timedelta

    from suppliers.models import Certification
    from tests.factories import SupplierCertificateFactory, SupplierFactory
    from tests.matching.magnets.conftest import today

    supplier = SupplierFactory(owner=market.maker_org)
    iatf = Certification.objects.get(code="iatf-16949")
    SupplierCertificateFactory(  # expired: counts for nothing
        supplier=supplier,
        certification=iatf,
        valid_from=today() - timedelta(days=800),
        valid_until=today() - timedelta(days=1),
    )
    checked = make_offer(market.maker_org)  # declares iso-9001 and iatf-16949
    declared = make_offer(market.other_maker_org)  # no supplier profile: as declared
    requirement = make_requirement(market.buyer_org)  # requires iatf-16949
    assert list(
        MagnetMatch.objects.filter(requirement=requirement).values_list("offer", flat=True)
    ) == [declared.id]
    miss = requirement.near_misses.get(offer=checked)
    assert (miss.constraint, miss.reason) == (
        "certification:iatf-16949",
        "does not hold iatf-16949",
    )

    SupplierCertificateFactory(supplier=supplier, certification=iatf)  # valid now
    client_for(market.buyer).post(f"/api/v1/magnets/requirements/{requirement.id}/runs/")
    run_queued()
    assert set(
        MagnetMatch.objects.filter(requirement=requirement).values_list("offer", flat=True)
    ) == {declared.id, checked.id}


def test_browsable_pages_of_leads_and_matches_show_their_filters(market: Any) -> None:
    """The browsable API builds the filter form over the listed model (leads and
    matches are magnet matches, the viewsets' models are offers and requirements)."""
    offer = post_offer(market.maker)
    requirement = post_requirement(market.buyer)
    pages = (
        (market.maker, f"/api/v1/magnets/offers/{offer['id']}/leads/"),
        (market.buyer, f"/api/v1/magnets/requirements/{requirement['id']}/matches/"),
    )
    for user, url in pages:
        response = client_for(user).get(url, HTTP_ACCEPT="text/html")

        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
        assert 'name="min_score"' in response.content.decode()


@pytest.mark.parametrize("stored", [[], [[0.5, 0.2, 0.1]]])
def test_factors_that_do_not_fit_their_version_are_named_by_position(
    market: Market, stored: list[list[float]]
) -> None:
    """A match whose stored factors do not fit its version's names (the model's default
    ``[]``, or a row edited by hand) is shown with the factors named by position, not a
    500; the maker then sees none, since which are private cannot be told."""
    offer = post_offer(market.maker)
    requirement = post_requirement(market.buyer)
    MagnetMatch.objects.update(factors=stored)

    buyer_view = client_for(market.buyer).get(requirement["matches_url"])
    lead_view = client_for(market.maker).get(offer["leads_url"])

    assert buyer_view.status_code == 200, buyer_view.content
    (match,) = buyer_view.json()["results"]
    assert [f["name"] for f in match["factors"]] == [f"factor_{n + 1}" for n in range(len(stored))]
    assert [f["value"] for f in match["factors"]] == [value for value, _, _ in stored]
    detail = client_for(market.buyer).get(match["url"])
    assert detail.status_code == 200
    assert detail.json()["factors"] == match["factors"]
    assert lead_view.status_code == 200, lead_view.content
    (lead,) = lead_view.json()["results"]
    assert lead["factors"] == []


def test_the_maker_reads_a_score_the_buyers_budget_and_delivery_point_do_not_move(
    market: Market,
) -> None:
    """The whole score moves with the price and distance factors: a maker moving its
    price band (each change reruns its offer) and watching could bisect the buyer's
    budget. The maker reads the public score, which neither moves."""
    offer = post_offer(market.maker)
    post_requirement(market.buyer)
    maker = client_for(market.maker)

    def lead() -> tuple[float, MagnetMatch]:
        (only,) = maker.get(offer["leads_url"]).json()["results"]
        return only["score"], MagnetMatch.objects.get(id=only["id"])

    first, match = lead()
    assert first == match.public_score
    assert match.score != match.public_score
    whole = {match.score}
    for low, high in (("3100", "3400"), ("2000", "2900"), ("2900", "3100")):
        changed = maker.patch(
            offer["url"],
            {"price_min_inr_per_kg": low, "price_max_inr_per_kg": high},
            format="json",
        )
        assert changed.status_code == 200, changed.json()
        run_queued()
        score, match = lead()
        assert score == first
        whole.add(match.score)
        buyer_view = client_for(market.buyer).get(f"/api/v1/magnets/matches/{match.id}/").json()
        assert buyer_view["score"] == match.score
    assert len(whole) > 1  # the buyer's ranking did move with the band


def test_leads_rank_and_filter_by_the_score_the_maker_reads(market: Market) -> None:
    offer = post_offer(market.maker)
    # Within budget and next door, but with more than the offer can make: first by the
    # buyer's score (price and distance), second by what the maker reads.
    near = post_requirement(market.buyer, quantity_per_month="4000")
    far = post_requirement(
        market.buyer, budget_inr_per_kg="1000", delivery_latitude=28.6, delivery_longitude=77.2
    )
    by_requirement = {
        str(m.requirement_id): m for m in MagnetMatch.objects.filter(offer_id=offer["id"])
    }
    assert by_requirement[near["id"]].score > by_requirement[far["id"]].score
    assert by_requirement[near["id"]].public_score < by_requirement[far["id"]].public_score

    maker = client_for(market.maker)
    for url in (offer["leads_url"], "/api/v1/magnets/leads/"):
        listed = maker.get(url).json()["results"]
        assert [lead["requirement"]["id"] for lead in listed] == [far["id"], near["id"]], url
        threshold = by_requirement[far["id"]].public_score
        kept = maker.get(url, {"min_score": threshold}).json()["results"]
        assert [lead["requirement"]["id"] for lead in kept] == [far["id"]], url


def test_operators_read_the_leads_feeds_as_the_maker_does(market: Market) -> None:
    """The feeds are ranked and filtered by the public score, so everyone reading them,
    an operator included, reads that score and the maker's factors: the scores shown
    descend and ``min_score`` keeps those at or above it. The match itself still shows an
    operator the whole score."""
    offer = post_offer(market.maker)
    near = post_requirement(market.buyer, quantity_per_month="4000")
    far = post_requirement(
        market.buyer, budget_inr_per_kg="1000", delivery_latitude=28.6, delivery_longitude=77.2
    )
    stored = {str(m.requirement_id): m for m in MagnetMatch.objects.filter(offer_id=offer["id"])}
    maker, operator = client_for(market.maker), client_for(market.operator)
    for url in (offer["leads_url"], "/api/v1/magnets/leads/"):
        seen = operator.get(url).json()["results"]
        assert [lead["requirement"]["id"] for lead in seen] == [far["id"], near["id"]], url
        assert [lead["score"] for lead in seen] == [
            stored[far["id"]].public_score,
            stored[near["id"]].public_score,
        ], url
        mine = {lead["id"]: lead for lead in maker.get(url).json()["results"]}
        for lead in seen:
            assert lead["factors"] == mine[lead["id"]]["factors"], url
            assert lead["reasons"] == mine[lead["id"]]["reasons"], url
        threshold = stored[far["id"]].public_score
        kept = operator.get(url, {"min_score": threshold}).json()["results"]
        assert [lead["score"] for lead in kept] == [threshold], url
    match = operator.get(f"/api/v1/magnets/matches/{stored[near['id']].id}/").json()
    assert match["score"] == stored[near["id"]].score
