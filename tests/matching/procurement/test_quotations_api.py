"""Quotations: asked for, submitted, revised, withdrawn, sealed, compared, attached."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from matching.procurement.models import Quotation, QuotationRequest
from remag.webhooks.models import Event
from tests.matching.conftest import client_for
from tests.matching.procurement.conftest import PDF, PNG, quote, terms

pytestmark = pytest.mark.django_db


def test_a_buyer_asks_the_interested_smes_and_they_are_told(world: Any, rfq_for: Any) -> None:
    request_id, rfq, matches = rfq_for("full", "far")
    assert rfq["status"] == "open"
    assert rfq["sealed"] is True
    event = Event.objects.get(type="quotation.requested")
    audience = {str(o) for o in event.audience.values_list("id", flat=True)}
    assert audience == {
        str(world.buyer_org.id),
        str(world.suppliers["full"].owner_id),
        str(world.suppliers["far"].owner_id),
    }
    # The invited SME sees the call; an SME that was not invited does not.
    assert client_for(world.sme_users["full"]).get(rfq["url"]).status_code == 200
    assert client_for(world.sme_users["half"]).get(rfq["url"]).status_code == 404
    # Only once per request.
    again = client_for(world.buyer).post(
        "/api/v1/quotation-requests/",
        {"request": request_id, "deadline": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "quotation_request_exists"


def test_nobody_interested_means_nothing_to_ask(world: Any, published: Any) -> None:
    request_id = published()
    response = client_for(world.buyer).post(
        "/api/v1/quotation-requests/",
        {"request": request_id, "deadline": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")


def test_quotations_are_sealed_until_everyone_answered(world: Any, rfq_for: Any) -> None:
    _, rfq, matches = rfq_for("full", "far")
    buyer = client_for(world.buyer)
    first = quote(world, "full", matches["full"])
    assert first.status_code == 201, first.json()
    assert first.json()["revision"] == 1
    assert first.json()["unit_price"] == "2450.00"

    # Sealed: the buyer reads nothing yet, cannot award; the other SME sees nothing of it.
    assert buyer.get(rfq["quotations_url"]).json()["results"] == []
    assert buyer.get(rfq["comparison_url"]).json()["results"] == []
    assert buyer.get(first.json()["url"]).status_code == 404
    far = client_for(world.sme_users["far"])
    assert far.get(first.json()["url"]).status_code == 404
    assert far.get("/api/v1/quotations/").json()["results"] == []
    award = buyer.post(
        f"{rfq['url']}award/",
        {"awards": [{"quotation": first.json()["id"], "quantity": "100"}]},
        format="json",
    )
    assert award.status_code == 409
    assert award.json()["code"] == "quotations_sealed"

    second = quote(world, "far", matches["far"], unit_price="2300.00")
    assert second.status_code == 201
    # Every invited SME answered: still sealed until the buyer opens them by reading.
    assert buyer.get(rfq["url"]).json()["sealed"] is True
    assert (
        client_for(world.sme_users["full"])
        .post(f"{first.json()['url']}revisions/", terms(unit_price="2440.00"), format="json")
        .status_code
        == 201
    )
    # Opened by the buyer's read, then frozen for the SMEs.
    listed = buyer.get(rfq["quotations_url"]).json()["results"]
    assert {q["id"] for q in listed} == {first.json()["id"], second.json()["id"]}
    assert buyer.get(rfq["url"]).json()["sealed"] is False
    late = client_for(world.sme_users["full"]).post(
        f"{first.json()['url']}revisions/", terms(unit_price="2000.00"), format="json"
    )
    assert late.status_code == 409
    assert late.json()["code"] == "quotations_opened"
    # Still no SME sees another's.
    assert [q["id"] for q in far.get("/api/v1/quotations/").json()["results"]] == [
        second.json()["id"]
    ]


def test_revisions_keep_their_history_and_a_late_one_is_refused(world: Any, rfq_for: Any) -> None:
    _, rfq, matches = rfq_for("full", "far")
    sme = client_for(world.sme_users["full"])
    created = quote(world, "full", matches["full"]).json()
    revised = sme.post(
        f"{created['url']}revisions/", terms(unit_price="2399.50", quantity="250"), format="json"
    )
    assert revised.status_code == 201, revised.json()
    assert revised.json()["revision"] == 2
    assert revised.json()["unit_price"] == "2399.50"
    history = sme.get(f"{created['url']}revisions/").json()["results"]
    assert [(r["number"], r["unit_price"]) for r in history] == [(1, "2450.00"), (2, "2399.50")]

    withdrawn = sme.post(f"{created['url']}withdraw/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    again = sme.post(f"{created['url']}revisions/", terms(), format="json")
    assert again.json()["status"] == "submitted"
    assert again.json()["revision"] == 3

    QuotationRequest.objects.filter(id=rfq["id"]).update(
        deadline=timezone.now() - timedelta(minutes=1)
    )
    late = sme.post(f"{created['url']}revisions/", terms(unit_price="1.00"), format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "quotation_late"
    assert late["Content-Type"].startswith("application/problem+json")
    assert Quotation.objects.get(id=created["id"]).unit_price == Decimal("2450.00")
    too_late = quote(world, "far", matches["far"])
    assert too_late.status_code == 409
    assert too_late.json()["code"] == "quotation_late"


def test_quoting_on_someone_elses_match_is_refused(world: Any, rfq_for: Any) -> None:
    _, _, matches = rfq_for("full", "far")
    intruder = client_for(world.sme_users["half"]).post(
        "/api/v1/quotations/", {"match": str(matches["full"].id), **terms()}, format="json"
    )
    assert intruder.status_code == 400
    assert intruder.json()["errors"][0]["field"] == "match"
    buyer = client_for(world.buyer).post(
        "/api/v1/quotations/", {"match": str(matches["full"].id), **terms()}, format="json"
    )
    assert buyer.status_code == 403
    assert not Quotation.objects.exists()


def test_the_terms_are_checked(world: Any, rfq_for: Any) -> None:
    _, _, matches = rfq_for("full", "far")
    wrong_unit = quote(world, "full", matches["full"], unit="pieces")
    assert wrong_unit.status_code == 400
    assert wrong_unit.json()["errors"][0]["field"] == "unit"
    short = quote(world, "full", matches["full"], valid_until=timezone.localdate().isoformat())
    assert short.json()["errors"][0]["field"] == "valid_until"
    # "full" is a micro enterprise: the MSMED Act's 45 days bind its terms.
    long_terms = quote(world, "full", matches["full"], payment_terms_days=60)
    assert long_terms.status_code == 400
    assert long_terms.json()["errors"][0]["field"] == "payment_terms_days"
    # "far" is small but classified in a past financial year: accepted (flagged at award).
    world.suppliers["far"].classification_year = 2022
    world.suppliers["far"].save(update_fields=["classification_year"])
    assert quote(world, "far", matches["far"], payment_terms_days=60).status_code == 201


def test_a_create_with_the_same_idempotency_key_quotes_once(world: Any, rfq_for: Any) -> None:
    _, _, matches = rfq_for("full", "far")
    sme = client_for(world.sme_users["full"])
    body = {"match": str(matches["full"].id), **terms()}
    first = sme.post("/api/v1/quotations/", body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    second = sme.post("/api/v1/quotations/", body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert Quotation.objects.count() == 1


def test_attachments_are_typed_by_their_bytes_and_sealed(
    world: Any, rfq_for: Any, settings: Any, tmp_path: Any
) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }}  # fmt: skip
    _, rfq, matches = rfq_for("full", "far")
    sme = client_for(world.sme_users["full"])
    created = quote(world, "full", matches["full"]).json()
    url = f"/api/v1/quotations/{created['id']}/attachments/"
    # A PDF named .png is a PDF.
    upload = sme.post(url, {"file": SimpleUploadedFile("drawing.png", PDF)}, format="multipart")
    assert upload.status_code == 201, upload.json()
    assert upload.json()["content_type"] == "application/pdf"
    assert (
        sme.post(url, {"file": SimpleUploadedFile("photo.jpg", PNG)}, format="multipart").json()[
            "content_type"
        ]
        == "image/png"
    )
    text = sme.post(
        url, {"file": SimpleUploadedFile("spec.pdf", b"plain text")}, format="multipart"
    )
    assert text.status_code == 400
    assert text.json()["errors"][0]["field"] == "file"
    settings.REMAG_QUOTATION_ATTACHMENT_MAX_BYTES = 40
    big = sme.post(url, {"file": SimpleUploadedFile("big.pdf", PDF * 3)}, format="multipart")
    assert big.status_code == 413

    download = upload.json()["download_url"]
    got = sme.get(download)
    assert got.status_code == 200
    assert got["Content-Type"] == "application/octet-stream"
    assert b"".join(got.streaming_content) == PDF
    # Sealed with the quotation: neither the buyer nor the other SME reads it yet.
    assert client_for(world.buyer).get(download).status_code == 404
    assert client_for(world.sme_users["far"]).get(url).status_code == 404
    quote(world, "far", matches["far"])
    # Everyone answered: the buyer opens the quotations by reading them.
    assert len(client_for(world.buyer).get(rfq["quotations_url"]).json()["results"]) == 2
    assert client_for(world.buyer).get(download).status_code == 200


def test_the_comparison_marks_l1_and_the_preference_band(
    world: Any, rfq_for: Any, settings: Any
) -> None:
    _, rfq, matches = rfq_for("full", "far")
    world.suppliers["far"].enterprise_size = "medium"
    world.suppliers["far"].save(update_fields=["enterprise_size"])
    # "far" (medium) is L1 at 2000/kg; "full" (micro) quotes 2.2 per... 2.25 lakh per tonne.
    quote(world, "far", matches["far"], unit_price="2000.00")
    quote(world, "full", matches["full"], unit_price="2250000.00", unit="tonnes", quantity="0.3")
    body = client_for(world.buyer).get(rfq["comparison_url"]).json()
    assert body["preference_band_percent"] == 15.0
    rows = {r["supplier"]["id"]: r for r in body["results"]}
    far, full = rows[str(world.suppliers["far"].id)], rows[str(world.suppliers["full"].id)]
    assert (far["price_per_base_unit"], far["base_unit"], far["is_lowest"]) == (
        "2000.0000",
        "kg",
        True,
    )
    assert (full["price_per_base_unit"], full["is_lowest"]) == ("2250.0000", False)
    # 2250 is within 2000 + 15%: the micro enterprise is within the band.
    assert full["micro_small"] is True
    assert full["within_preference_band"] is True
    assert far["within_preference_band"] is False
    assert full["score"] == matches["full"].score
    assert full["reasons"]
    assert {f["name"] for f in full["factors"]} >= {"track_record", "capability_coverage"}
    settings.REMAG_MSE_PRICE_PREFERENCE_PERCENT = 10.0
    body = client_for(world.buyer).get(rfq["comparison_url"]).json()
    assert not any(r["within_preference_band"] for r in body["results"])


def test_only_the_buyer_compares(world: Any, rfq_for: Any) -> None:
    _, rfq, matches = rfq_for("full", "far")
    quote(world, "full", matches["full"])
    quote(world, "far", matches["far"])
    sme = client_for(world.sme_users["full"])
    refused = sme.get(rfq["comparison_url"])
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    # The SME's refused read opened nothing: the buyer's read does.
    assert QuotationRequest.objects.get(id=rfq["id"]).opened_at is None
    assert len(client_for(world.buyer).get(rfq["comparison_url"]).json()["results"]) == 2


def test_a_hostile_quotation_at_both_maxima_does_not_break_the_comparison(
    world: Any, rfq_for: Any
) -> None:
    request_id, rfq, matches = rfq_for("full", "far")
    biggest = quote(
        world, "full", matches["full"], unit_price="999999999999.99", quantity="99999999999.999"
    )
    assert biggest.status_code == 201, biggest.json()
    assert quote(world, "far", matches["far"]).status_code == 201
    response = client_for(world.buyer).get(f"/api/v1/quotation-requests/{rfq['id']}/comparison/")
    assert response.status_code == 200, response.content[:300]
    totals = {row["supplier"]["id"]: row["total_price"] for row in response.json()["results"]}
    product = Decimal("999999999999.99") * Decimal("99999999999.999")
    assert totals[str(world.suppliers["full"].id)] == f"{product.quantize(Decimal('0.01'))}"


def test_only_an_interested_match_quotes(world: Any, rfq_for: Any) -> None:
    from matching.models import Match

    request_id, rfq, matches = rfq_for("full", "far")
    Match.objects.filter(id=matches["far"].id).update(status="declined")
    refused = quote(world, "far", matches["far"])
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "match_not_interested"
    assert quote(world, "full", matches["full"]).status_code == 201


def test_matches_are_awarded_only_through_the_quotations_once_asked(
    world: Any, rfq_for: Any
) -> None:
    request_id, rfq, matches = rfq_for("full", "far")
    buyer = client_for(world.buyer)
    for status in ("awarded", "not_selected"):
        response = buyer.post(
            f"/api/v1/matches/{matches['full'].id}/transitions/", {"status": status}, format="json"
        )
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "award_through_quotations"
    matches["full"].refresh_from_db()
    assert matches["full"].status == "interested"
