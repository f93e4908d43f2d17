"""R&D institutions answer calls without a supplier profile: the organisation (kind
``research``) is recorded, the NDA and the consent rule apply as to a supplier."""

from typing import Any

import pytest

from matching.collaboration.models import ExpressionOfInterest
from remag.webhooks.models import Event, EventAudience
from tests.collaboration.conftest import CollabWorld, client_for
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
CALLS = "/api/v1/collaboration/calls/"
INTERESTS = "/api/v1/collaboration/interests/"
CONTACT = {"contact_name": "Dr Rao", "contact_email": "rao@iit.example.in"}


def test_an_rnd_institution_answers_without_a_supplier_profile(
    cworld: CollabWorld, opened: Any
) -> None:
    call = opened()
    institute = client_for(cworld.institute)
    institute_org = cworld.institute.memberships.get().organization
    body = {"call": call["id"], "message": "Our magnetics lab has a VSM.", **CONTACT}
    refused = institute.post(INTERESTS, body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "nda_required"
    assert institute.post(f"{CALLS}{call['id']}/nda/", {}, format="json").status_code == 201
    assert institute.get(f"{CALLS}{call['id']}/").json()["details_visible"] is True
    no_contact = institute.post(INTERESTS, {**body, "contact_email": ""}, format="json")
    assert no_contact.status_code == 400
    assert no_contact.json()["errors"][0]["field"] == "contact_email"

    created = institute.post(INTERESTS, body, format="json")
    assert created.status_code == 201, created.json()
    interest = created.json()
    assert interest["supplier"] is None
    assert interest["organization"] == str(institute_org.id)
    assert interest["match_score"] is None
    assert interest["poster_contact"] is None
    again = institute.post(INTERESTS, body, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "interest_exists"
    submitted = Event.objects.get(type="collaboration_interest.submitted")
    assert submitted.payload["interest"]["organization"] == str(institute_org.id)
    assert submitted.payload["interest"]["supplier"] is None
    audience = set(
        EventAudience.objects.filter(event=submitted).values_list("organization_id", flat=True)
    )
    assert audience == {cworld.poster_org.id, institute_org.id}

    # Consent both ways on the poster's shortlist.
    url = f"{INTERESTS}{interest['id']}/"
    poster = client_for(cworld.poster)
    assert poster.get(url).json()["supplier_contact"] is None
    assert client_for(cworld.sme_users["lab"]).get(url).status_code == 404
    assert institute.post(f"{url}shortlist/", {}, format="json").status_code == 403
    shortlisted = poster.post(f"{url}shortlist/", {}, format="json")
    assert shortlisted.status_code == 200
    assert shortlisted.json()["supplier_contact"] == {
        "name": "Dr Rao",
        "email": "rao@iit.example.in",
        "phone": "",
    }
    mine = institute.get(url).json()
    assert mine["poster_contact"]["email"] == "rnd@plant.example.in"
    assert mine["supplier_contact"] is None
    listed = institute.get(INTERESTS, {"organization": str(institute_org.id)}).json()
    assert [i["id"] for i in listed["results"]] == [interest["id"]]
    withdrawn = institute.post(f"{url}withdraw/", {}, format="json")
    assert withdrawn.json()["status"] == "withdrawn"


def test_only_an_rnd_institution_answers_without_a_supplier(
    cworld: CollabWorld, opened: Any
) -> None:
    call = opened(requires_nda=False, nda_text="")
    body = {"call": call["id"], "message": "Keen.", **CONTACT}
    # A manufacturer, an SME or a portal must name a supplier profile.
    for user in (
        MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user,
        cworld.sme_users["half"],
        MembershipFactory(organization=OrganizationFactory(kind="portal")).user,
        cworld.operator,
    ):
        refused = client_for(user).post(INTERESTS, body, format="json")
        assert refused.status_code == 400, user
        assert refused.json()["errors"][0]["field"] == "supplier"
    # Naming someone else's institution, or a manufacturer, is refused on `organization`.
    stranger = OrganizationFactory(kind="research")
    refused = client_for(cworld.institute).post(
        INTERESTS, {**body, "organization": str(stranger.id)}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "organization"
    # The poster's own institution does not answer its own call.
    own = opened(user=cworld.institute, requires_nda=False, nda_text="")
    refused = client_for(cworld.institute).post(
        INTERESTS, {**body, "call": own["id"]}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "organization"
    assert ExpressionOfInterest.objects.count() == 0


def test_a_portal_acknowledges_for_an_sme_it_onboarded(cworld: CollabWorld, opened: Any) -> None:
    """A portal managing an unclaimed SME acknowledges the NDA for the SME's organisation
    (naming the supplier), then answers for it: no dead end."""
    from matching.collaboration.models import NdaAcknowledgement
    from tests.factories import SupplierFactory

    call = opened()
    portal_user = MembershipFactory(organization=OrganizationFactory(kind="portal")).user
    portal_org = portal_user.memberships.get().organization
    onboarded = SupplierFactory(onboarded_by=portal_org, claimed_at=None, contact_email="x@y.in")
    portal = client_for(portal_user)
    url = f"{CALLS}{call['id']}/nda/"
    body = {"supplier": str(onboarded.id)}
    ack = portal.post(url, body, format="json")
    assert ack.status_code == 201, ack.json()
    assert ack.json()["organization"] == str(onboarded.owner_id)
    assert NdaAcknowledgement.objects.get().by_user == portal_user
    answer = {"call": call["id"], "supplier": str(onboarded.id), "message": "For our SME."}
    assert portal.post(INTERESTS, answer, format="json").status_code == 201
    # Someone else's supplier, or an operator naming one: refused on `supplier`.
    for user in (cworld.sme_users["half"], cworld.operator):
        refused = client_for(user).post(url, body, format="json")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "supplier"
