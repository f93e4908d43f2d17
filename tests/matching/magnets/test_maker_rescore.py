"""What a maker's offers are scored from beyond the offers themselves: its supplier
profile's registered certificates and its track record. A change of either reruns every
published offer of the maker, so its pairs do not keep the old answer until someone edits
an offer."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from matching.magnets import runs, services
from matching.magnets.api.serializers import MagnetRequirementSerializer
from matching.magnets.models import MagnetMatch, MagnetOffer, MagnetRequirement, MagnetRun
from matching.magnets.scoring import COLUMN
from suppliers import services as registry
from suppliers.models import (
    CertificateValiditySweep,
    Certification,
    Supplier,
    SupplierCertificate,
)
from tests.factories import SupplierCertificateFactory, SupplierFactory, UserFactory
from tests.matching.magnets.conftest import (
    Market,
    client_for,
    make_offer,
    make_requirement,
    requirement_body,
    run_queued,
    today,
)


def _certificate(code: str, **dates: Any) -> dict[str, Any]:
    return {
        "certification": Certification.objects.get(code=code),
        "certificate_number": f"{code}-1",
        "issuing_body": "TUV",
        "valid_from": dates.get("valid_from", today() - timedelta(days=30)),
        "valid_until": dates.get("valid_until", today() + timedelta(days=700)),
        "scope": [],
    }


def _update(supplier: Supplier, certificates: list[dict[str, Any]]) -> None:
    registry.supplier_update(
        supplier=Supplier.objects.get(id=supplier.id),
        data=registry.SupplierInput(profile={}, certificates=certificates),
    )


def _offers_matched(requirement: Any) -> set[Any]:
    return set(
        MagnetMatch.objects.filter(requirement=requirement, qualifies=True).values_list(
            "offer_id", flat=True
        )
    )


@pytest.mark.usefixtures("eager")
def test_registering_a_certificate_reruns_the_makers_published_offers(
    market: Market, django_capture_on_commit_callbacks: Any
) -> None:
    supplier = SupplierFactory(owner=market.maker_org)  # registers nothing yet
    offers = [make_offer(market.maker_org), make_offer(market.maker_org)]  # declare iatf
    requirement = make_requirement(market.buyer_org)  # requires iatf-16949
    assert _offers_matched(requirement) == set()
    assert requirement.near_misses.filter(constraint="certification:iatf-16949").count() == 2
    before = MagnetRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        _update(supplier, [_certificate("iatf-16949")])
    run_queued()  # whatever the in-process tasks left queued

    reruns = MagnetRun.objects.order_by("created_at")[before:]
    assert {run.offer_id for run in reruns} == {offer.id for offer in offers}
    assert all(run.status == "succeeded" and run.trigger == "update" for run in reruns)
    assert _offers_matched(requirement) == {offer.id for offer in offers}
    assert not requirement.near_misses.exists()

    # Replacing the certificate by an expired one takes the matches away again.
    with django_capture_on_commit_callbacks(execute=True):
        _update(supplier, [_certificate("iatf-16949", valid_until=today() - timedelta(days=1))])
    run_queued()
    assert _offers_matched(requirement) == set()


@pytest.mark.usefixtures("eager")
def test_a_registered_certificate_lapsing_with_the_date_reruns_the_makers_offers(
    market: Market, django_capture_on_commit_callbacks: Any
) -> None:
    """Nothing is written when a certificate lapses: the day's validity sweep announces
    it, and the maker's offers no longer count the certification from then on."""
    supplier = SupplierFactory(owner=market.maker_org)
    with django_capture_on_commit_callbacks(execute=True):
        _update(supplier, [_certificate("iatf-16949")])
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org)  # requires iatf-16949
    assert _offers_matched(requirement) == {offer.id}
    # The days pass: the certificate was valid through yesterday (no save, no signal).
    SupplierCertificate.objects.filter(supplier=supplier).update(
        valid_until=today() - timedelta(days=1)
    )
    CertificateValiditySweep.objects.update_or_create(
        id=1, defaults={"through": today() - timedelta(days=1)}
    )
    before = MagnetRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert registry.certificates_validity_sweep() == [str(supplier.id)]
    run_queued()

    assert [run.offer_id for run in MagnetRun.objects.order_by("created_at")[before:]] == [offer.id]
    assert _offers_matched(requirement) == set()
    assert requirement.near_misses.get(offer=offer).constraint == "certification:iatf-16949"


@pytest.mark.usefixtures("eager")
@pytest.mark.parametrize("how", ["delete_view", "bulk_action"])
def test_an_operator_deleting_the_makers_profile_reruns_its_offers(
    market: Market, django_capture_on_commit_callbacks: Any, how: str
) -> None:
    """Without a profile the maker's declaration counts as it stands: an offer declaring
    a certification its deleted profile did not register matches from then on."""
    supplier = SupplierFactory(owner=market.maker_org)  # registers nothing
    offer = make_offer(market.maker_org)  # declares iatf-16949
    requirement = make_requirement(market.buyer_org)  # requires it
    assert _offers_matched(requirement) == set()
    before = MagnetRun.objects.count()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete_view":
            response = staff.post(
                f"/admin/suppliers/supplier/{supplier.id}/delete/", {"post": "yes"}
            )
        else:
            response = staff.post(
                "/admin/suppliers/supplier/",
                {"action": "delete_selected", "_selected_action": [supplier.id], "post": "yes"},
            )
    assert response.status_code == 302
    assert not Supplier.objects.filter(id=supplier.id).exists()
    run_queued()

    assert [run.offer_id for run in MagnetRun.objects.order_by("created_at")[before:]] == [offer.id]
    assert _offers_matched(requirement) == {offer.id}


@pytest.mark.usefixtures("eager")
def test_reinstating_a_suspended_profile_rescores_its_owners_offers_only(
    market: Market, django_capture_on_commit_callbacks: Any
) -> None:
    """Verification lifts a suspension, and a suspended profile backs no certificate:
    the maker's offers match again, and no other maker's offer is rerun."""
    supplier = SupplierFactory(owner=market.maker_org)
    with django_capture_on_commit_callbacks(execute=True):
        _update(supplier, [_certificate("iatf-16949")])
        registry.supplier_suspend(
            supplier=Supplier.objects.get(id=supplier.id), by=None, reason="audit"
        )
    mine = make_offer(market.maker_org)
    make_offer(market.other_maker_org)  # another maker's: not rerun
    requirement = make_requirement(market.buyer_org)
    assert mine.id not in _offers_matched(requirement)
    before = MagnetRun.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        registry.supplier_verify(supplier=Supplier.objects.get(id=supplier.id), by=None)
    run_queued()

    assert [run.offer_id for run in MagnetRun.objects.order_by("created_at")[before:]] == [mine.id]
    assert mine.id in _offers_matched(requirement)


@pytest.mark.usefixtures("eager")
@pytest.mark.parametrize("withdraw", ["deactivate", "suspend"])
def test_a_withdrawn_profile_backs_no_certificate_and_still_checks_the_declaration(
    market: Market, django_capture_on_commit_callbacks: Any, withdraw: str
) -> None:
    """A maker cannot lift the check of its declared certifications by deactivating its
    profile (nor does a suspended profile back any)."""
    supplier = SupplierFactory(owner=market.maker_org)
    with django_capture_on_commit_callbacks(execute=True):
        _update(supplier, [_certificate("iatf-16949")])
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org)
    assert _offers_matched(requirement) == {offer.id}

    with django_capture_on_commit_callbacks(execute=True):
        if withdraw == "deactivate":
            registry.supplier_deactivate(supplier=Supplier.objects.get(id=supplier.id))
        else:
            registry.supplier_suspend(
                supplier=Supplier.objects.get(id=supplier.id), by=None, reason="audit"
            )
    run_queued()

    assert _offers_matched(requirement) == set()
    miss = requirement.near_misses.get(offer=offer)
    assert miss.constraint == "certification:iatf-16949"


def test_a_run_overtaken_by_a_later_run_of_its_offer_leaves_that_runs_rows(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The maker registers a certificate while its offer's run is loading: the rescore
    queues a second run (the first is no longer queued), which finishes first. The first,
    which read the maker without the certificate, must not write over it."""
    supplier = SupplierFactory(owner=market.maker_org)
    offer = make_offer(market.maker_org)
    requirement = make_requirement(market.buyer_org)
    assert _offers_matched(requirement) == set()
    load = runs.load_for_offer
    later: list[Any] = []

    def load_then_overtake(subject: MagnetOffer) -> Any:
        loaded = load(subject)
        if not later:
            later.append(None)  # the later run's own load goes through here too
            SupplierCertificateFactory(
                supplier=supplier, certification=Certification.objects.get(code="iatf-16949")
            )
            (run,) = services.maker_offers_rescore(owner_ids=[market.maker_org.id])
            later[0] = runs.magnet_run_execute(run_id=run.id)
        return loaded

    monkeypatch.setattr(runs, "load_for_offer", load_then_overtake)
    first, _ = runs.magnet_run_create(offer=MagnetOffer.objects.get(id=offer.id), trigger="manual")
    done = runs.magnet_run_execute(run_id=first.id)

    assert (later[0].status, later[0].matched_count) == ("succeeded", 1)
    assert (done.status, done.matched_count, done.near_miss_count) == ("succeeded", 1, 0)
    match = MagnetMatch.objects.get(requirement=requirement, offer=offer)
    assert match.run_id == later[0].id


def _run_requirement_while(
    requirement: Any, monkeypatch: pytest.MonkeyPatch, meanwhile: Any
) -> MagnetRun:
    """Run ``requirement`` with ``meanwhile()`` done once its offers are read."""
    load = runs.load_for_requirement
    done: list[Any] = []

    def load_then(subject: Any, *, day: Any) -> Any:
        loaded = load(subject, day=day)
        if not done:
            done.append(meanwhile())
        return loaded

    monkeypatch.setattr(runs, "load_for_requirement", load_then)
    run, _ = runs.magnet_run_create(
        requirement=MagnetRequirement.objects.get(id=requirement.id), trigger="manual"
    )
    finished = runs.magnet_run_execute(run_id=run.id)
    assert finished is not None
    return finished


@pytest.mark.parametrize(
    ("required", "registered", "reuse_queued", "outcome"),
    [
        # The run read a near miss; the maker's new certificate makes it a match.
        (["iatf-16949"], ["iatf-16949"], False, "match"),
        # The run read two violations (no near miss, no match): a match now.
        (["iatf-16949", "iso-9001"], ["iatf-16949", "iso-9001"], False, "match"),
        # Two violations read, one left: a near miss now.
        (["iatf-16949", "iso-9001"], ["iatf-16949"], False, "near miss"),
        # The rescore reuses an offer run queued before the requirement's run read.
        (["iatf-16949"], ["iatf-16949"], True, "match"),
    ],
)
def test_a_requirement_run_that_read_the_maker_before_its_change_leaves_the_rescored_pair(
    market: Market,
    monkeypatch: pytest.MonkeyPatch,
    required: list[str],
    registered: list[str],
    reuse_queued: bool,
    outcome: str,
) -> None:
    """A requirement's run reads the maker's offers; the maker registers certificates
    the requirement asks for, and the rescore's offer run writes the pair before the
    requirement's run writes. The requirement's run, which read the maker as it was, must
    not overwrite or delete that pair: no offer changed, only the offer's own run, queued
    or started since its read, tells it."""
    supplier = SupplierFactory(owner=market.maker_org)  # registers nothing yet
    offer = make_offer(market.maker_org)  # declares iso-9001 and iatf-16949
    other = make_offer(market.other_maker_org)  # no profile: its declaration counts
    requirement = make_requirement(market.buyer_org, required_certifications=required)
    assert _offers_matched(requirement) == {other.id}
    queued = None
    if reuse_queued:
        queued, _ = runs.magnet_run_create(
            offer=MagnetOffer.objects.get(id=offer.id), trigger="manual"
        )
    rescored: list[Any] = []

    def rescore() -> None:
        for n, code in enumerate(registered):
            SupplierCertificateFactory(
                supplier=supplier,
                certification=Certification.objects.get(code=code),
                certificate_number=f"C-{n}",
            )
        (run,) = services.maker_offers_rescore(owner_ids=[market.maker_org.id])
        assert queued is None or run.id == queued.id
        rescored.append(runs.magnet_run_execute(run_id=run.id))

    done = _run_requirement_while(requirement, monkeypatch, rescore)

    assert (rescored[0].status, done.status) == ("succeeded", "succeeded")
    if outcome == "match":
        match = MagnetMatch.objects.get(requirement=requirement, offer=offer)
        assert (match.qualifies, match.run_id) == (True, rescored[0].id)
        assert not requirement.near_misses.filter(offer=offer).exists()
    else:
        assert not MagnetMatch.objects.filter(requirement=requirement, offer=offer).exists()
        miss = requirement.near_misses.get(offer=offer)
        assert miss.constraint == "certification:iso-9001"
    # The other maker's pair, whose offer had no run since, stays this run's to write.
    assert other.id in _offers_matched(requirement)


def test_a_draft_requirements_run_writes_the_pair_of_an_offer_run_meanwhile(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No offer run pairs with a draft (the buyer's preview): its own run writes every
    pair, even of an offer that ran or changed while it read."""
    offer = make_offer(market.other_maker_org)
    body = MagnetRequirementSerializer(data=requirement_body())
    assert body.is_valid(), body.errors
    draft = services.requirement_create(
        owner=market.buyer_org, created_by=None, data=dict(body.validated_data)
    )
    assert draft.status == "draft"

    def offer_runs_and_changes() -> None:
        run, _ = runs.magnet_run_create(
            offer=MagnetOffer.objects.get(id=offer.id), trigger="manual"
        )
        runs.magnet_run_execute(run_id=run.id)
        MagnetOffer.objects.filter(id=offer.id).update(  # saved since
            title="Renamed", updated_at=timezone.now()
        )

    done = _run_requirement_while(draft, monkeypatch, offer_runs_and_changes)

    assert done.status == "succeeded"
    match = MagnetMatch.objects.get(requirement=draft, offer=offer)
    assert match.run_id == done.id


@pytest.mark.usefixtures("eager")
def test_an_outcome_reruns_the_makers_offers_with_its_new_track_record(
    market: Market, django_capture_on_commit_callbacks: Any
) -> None:
    supplied = make_offer(market.maker_org, certifications=["iatf-16949"])
    other = make_offer(market.maker_org, certifications=["iatf-16949"], lead_time_days=30)
    mine = make_requirement(market.buyer_org)
    theirs = make_requirement(market.other_maker_org)  # another buyer of the maker
    pair = MagnetMatch.objects.get(requirement=mine, offer=supplied)
    watched = MagnetMatch.objects.get(requirement=theirs, offer=other)
    prior = watched.factors[COLUMN["track_record"]][0]
    assert prior == pytest.approx(0.5)

    buyer, maker = client_for(market.buyer), client_for(market.maker)
    url = f"/api/v1/magnets/matches/{pair.id}/"
    moved = buyer.post(f"{url}transitions/", {"status": "interested"}, format="json")
    assert moved.status_code == 201, moved.json()
    accepted = maker.post(f"{url}transitions/", {"status": "accepted"}, format="json")
    assert accepted.status_code == 201, accepted.json()
    with django_capture_on_commit_callbacks(execute=True):
        recorded = buyer.post(f"{url}outcome/", {"outcome": "good"}, format="json")
    assert recorded.status_code == 200, recorded.json()
    run_queued()

    watched.refresh_from_db()
    # (1 good + 0.5 x 3) / (1 supply + 3): the offer never supplied anyone itself.
    assert watched.factors[COLUMN["track_record"]][0] == pytest.approx(0.625)
    assert "1 of 1 past supplies went well" in watched.reasons

    # The same outcome again changes nothing and queues nothing.
    before = MagnetRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = buyer.post(f"{url}outcome/", {"outcome": "good"}, format="json")
    assert again.status_code == 200
    assert MagnetRun.objects.count() == before
