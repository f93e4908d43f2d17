"""A portal developer's first move (issue 11): generate a Python client from the served
schema with openapi-python-client, exactly as docs/api.md says, and drive a whole
scenario through it against a live server. Any response the generated models cannot
parse, or any status the schema does not declare, fails the test.

The scenario: an SME registers with capabilities and certificates, an operator verifies
it, a manufacturer posts and publishes a request, waits for the run, reads the explained
matches, shortlists and invites; the SME answers interested; both read their events.
"""

import importlib
import io
import json
import shlex
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.utils import timezone

from remag.celery import app as celery_app
from suppliers.taxonomy import taxonomy_load
from tests.conftest import ROOT
from tests.factories import MembershipFactory, OrganizationFactory, UserTokenFactory

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "remag_client"


def documented_commands() -> list[list[str]]:
    """The `openapi-python-client` lines of docs/api.md's "Generating a client"."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## Generating a client", 1)[1].split("\n## ", 1)[0]
    return [
        shlex.split(line)
        for line in section.splitlines()
        if line.startswith("openapi-python-client ")
    ]


def test_docs_show_the_generation_command() -> None:
    assert documented_commands() == [
        [
            "openapi-python-client",
            "generate",
            "--path",
            "remag-schema.json",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ]
    ]


@pytest.fixture
def in_process_tasks(settings: Any) -> Iterator[None]:
    """Match runs run in the server's thread once the publishing transaction commits (the
    embedded mode of `make run`); workers are tested elsewhere."""
    previous = celery_app.conf.task_always_eager  # before the settings change: conf reads them
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def generated(wsgi_server: str, tmp_path: Path) -> Iterator[ModuleType]:
    """The client generated from the live server's schema by the documented command."""
    request = urllib.request.Request(  # noqa: S310 (the test's loopback server)
        f"{wsgi_server}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        (tmp_path / "remag-schema.json").write_bytes(response.read())
    (command,) = documented_commands()
    executable = Path(sys.executable).parent / command[0]
    result = subprocess.run(  # noqa: S603 (our own command line, from our docs)
        [str(executable), *command[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Warnings other than a missing formatter (its post-hook) mean a piece was skipped.
    leftover = result.stdout.replace("ruff is not in PATH", "")
    assert "Skipping" not in leftover.replace("Skipping Integration", ""), leftover
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def supplier_body() -> dict[str, Any]:
    body = json.loads((ROOT / "docs" / "samples" / "register-supplier.json").read_text())
    today = timezone.localdate()
    body["udyam_number"] = "UDYAM-MH-26-0098765"
    body["gstin"] = ""
    for certificate in body["certificates"]:
        certificate["valid_from"] = (today - timedelta(days=30)).isoformat()
        certificate["valid_until"] = (today + timedelta(days=900)).isoformat()
    return body


def request_body() -> dict[str, Any]:
    body = json.loads((ROOT / "docs" / "samples" / "procurement-request.json").read_text())
    body["needed_by"] = (timezone.localdate() + timedelta(days=120)).isoformat()
    return body


def ok(response: Any, status: int) -> Any:
    """The parsed body of a response that must have ``status``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.parsed is not None
    return response.parsed


def test_a_generated_client_drives_the_whole_scenario(
    generated: ModuleType, wsgi_server: str, in_process_tasks: None
) -> None:
    taxonomy_load()
    sme_user = MembershipFactory(organization=OrganizationFactory(kind="sme")).user
    buyer_user = MembershipFactory(organization=OrganizationFactory(kind="manufacturer")).user
    operator_user = MembershipFactory(organization=OrganizationFactory(kind="operator")).user

    client_module = importlib.import_module(f"{PACKAGE}.client")
    models = importlib.import_module(f"{PACKAGE}.models")

    def api(name: str) -> Any:
        tag, operation = name.split(".")
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")

    def client_for(user: Any) -> Any:
        return client_module.AuthenticatedClient(
            base_url=wsgi_server,
            token=UserTokenFactory(user=user).raw_key,
            prefix="Bearer",
            raise_on_unexpected_status=True,
        )

    sme, buyer, operator = client_for(sme_user), client_for(buyer_user), client_for(operator_user)
    anonymous = client_module.Client(base_url=wsgi_server, raise_on_unexpected_status=True)

    # The SME registers, with capabilities and certificates; pending until verified.
    supplier = ok(
        api("suppliers.suppliers_create").sync_detailed(
            client=sme,
            body=models.SupplierInput.from_dict(supplier_body()),
            idempotency_key=str(uuid.uuid4()),
        ),
        201,
    )
    assert isinstance(supplier, models.Supplier)
    assert supplier.status == models.SupplierStatusEnum.PENDING
    assert [c.capability for c in supplier.capabilities] == ["nicuni-coating", "wire-edm-slicing"]
    # Anyone reads the public profile, without the private fields.
    public = ok(
        api("suppliers.suppliers_retrieve").sync_detailed(supplier.id, client=anonymous), 200
    )
    assert isinstance(public.onboarded_by, type(generated.types.UNSET))

    verified = ok(
        api("suppliers.suppliers_verify_create").sync_detailed(supplier.id, client=operator), 200
    )
    assert verified.status == models.SupplierStatusEnum.ACTIVE

    # The manufacturer posts and publishes a request; the run starts by itself.
    draft = ok(
        api("requests.requests_create").sync_detailed(
            client=buyer, body=models.ProcurementRequestInput.from_dict(request_body())
        ),
        201,
    )
    published = ok(
        api("requests.requests_publish_create").sync_detailed(draft.id, client=buyer), 200
    )
    assert published.status == models.RequestStatusEnum.OPEN
    runs = ok(api("requests.requests_match_runs_list").sync_detailed(draft.id, client=buyer), 200)
    run_id = runs.results[0].id
    deadline = time.monotonic() + 60
    while True:
        run = ok(api("match_runs.match_runs_retrieve").sync_detailed(run_id, client=buyer), 200)
        if run.status in (models.JobStatusEnum.SUCCEEDED, models.JobStatusEnum.FAILED):
            break
        assert time.monotonic() < deadline, run.status
        time.sleep(0.2)
    assert run.status == models.JobStatusEnum.SUCCEEDED, run.error

    # Ranked, explained matches.
    matches = ok(api("requests.requests_matches_list").sync_detailed(draft.id, client=buyer), 200)
    (match,) = [m for m in matches.results if m.supplier.id == supplier.id]
    assert match.outcome is None
    assert abs(sum(f.contribution for f in match.factors) - match.score) < 0.05
    assert match.reasons

    transition = api("matches.matches_transitions_create")
    for status in ("shortlisted", "invited"):
        moved = ok(
            transition.sync_detailed(
                match.id,
                client=buyer,
                body=models.TransitionInput(status=models.TransitionInputStatusEnum(status)),
                idempotency_key=str(uuid.uuid4()),
            ),
            201,
        )
        assert moved.status == models.MatchStatusEnum(status)

    # The SME sees the opportunity as published and answers interested.
    opportunities = ok(
        api("opportunities.suppliers_opportunities_list").sync_detailed(supplier.id, client=sme),
        200,
    )
    assert [o.match for o in opportunities.results] == [match.id]
    assert isinstance(opportunities.results[0].request, models.PublishedRequest)
    gaps = ok(api("opportunities.suppliers_gaps_list").sync_detailed(supplier.id, client=sme), 200)
    assert gaps.next_ is None
    answered = ok(
        transition.sync_detailed(
            match.id,
            client=sme,
            body=models.TransitionInput(status=models.TransitionInputStatusEnum.INTERESTED),
        ),
        201,
    )
    assert answered.status == models.MatchStatusEnum.INTERESTED
    seen = ok(api("matches.matches_retrieve").sync_detailed(match.id, client=buyer), 200)
    assert seen.supplier.contact.email == supplier_body()["contact_email"]

    # Both parties read their events, each parsed as its own type.
    events_list = api("events.events_list")
    buyer_events = ok(events_list.sync_detailed(client=buyer), 200).results
    by_type = {type(event).__name__: event for event in buyer_events}
    assert {"RequestPublishedEvent", "MatchRunSucceededEvent"} <= set(by_type)
    assert {"MatchShortlistedEvent", "MatchInvitedEvent", "MatchRespondedEvent"} <= set(by_type)
    responded = by_type["MatchRespondedEvent"]
    assert isinstance(responded.payload, models.MatchRespondedPayload)
    assert responded.payload.answer == models.AnswerEnum.INTERESTED
    assert responded.payload.match.id == match.id
    sme_events = ok(events_list.sync_detailed(client=sme), 200).results
    assert "MatchInvitedEvent" in {type(event).__name__ for event in sme_events}
    one = ok(api("events.events_retrieve").sync_detailed(responded.id, client=buyer), 200)
    assert isinstance(one, models.MatchRespondedEvent)

    # The dashboard's figures (issue 18), as a portal would embed them.
    from stats.services import stats_refresh

    stats_refresh()
    coverage = ok(api("stats.stats_coverage_retrieve").sync_detailed(client=anonymous), 200)
    assert isinstance(coverage, models.Coverage)
    assert coverage.refreshed_at is not None
    assert any(c.capability == "nicuni-coating" for c in coverage.by_capability)
    gaps_near = ok(
        api("stats.stats_coverage_gaps_retrieve").sync_detailed(
            client=anonymous, latitude=18.52, longitude=73.85, radius_km=100, threshold=1
        ),
        200,
    )
    assert all(g.suppliers < 1 for g in gaps_near.capabilities)
    funnel = ok(api("stats.stats_funnel_retrieve").sync_detailed(client=buyer), 200)
    assert [s.requests for s in funnel.stages] == [1, 1, 1, 1, 1, 0]
    assert funnel.timing.requests_with_award == 0
    shares = ok(api("stats.stats_policy_shares_retrieve").sync_detailed(client=operator), 200)
    assert shares.total.awards == 0
    assert shares.total.micro_small_share is None
    assert shares.reference.micro_small == 25.0
    unmet = ok(api("stats.stats_unmet_demand_retrieve").sync_detailed(client=buyer), 200)
    assert isinstance(unmet, models.UnmetDemand)
    assert unmet.below == 3
    refused = api("stats.stats_funnel_retrieve").sync_detailed(client=client_for(sme_user))
    assert refused.status_code == 403

    # The deal (issue 16): the buyer asks for quotations, the SME quotes with a PDF, the
    # buyer opens and compares them, awards; a delivery and a payment close the order.
    today = timezone.localdate()
    rfq = ok(
        api("quotations.quotation_requests_create").sync_detailed(
            client=buyer,
            body=models.QuotationRequestInput(
                request=draft.id, deadline=timezone.now() + timedelta(days=2)
            ),
            idempotency_key=str(uuid.uuid4()),
        ),
        201,
    )
    assert isinstance(rfq, models.QuotationRequest)
    assert rfq.sealed is True
    terms = {
        "unit_price": "6.75",
        "quantity": "40000",
        "unit": models.QuantityUnitEnum.PIECES,
        "lead_time_days": 21,
        "valid_until": today + timedelta(days=30),
        "payment_terms_days": 30,
    }
    quotation = ok(
        api("quotations.quotations_create").sync_detailed(
            client=sme, body=models.QuotationInput(match=match.id, **terms)
        ),
        201,
    )
    assert quotation.status == models.QuotationStatusEnum.SUBMITTED
    revised = ok(
        api("quotations.quotations_revisions_create").sync_detailed(
            quotation.id,
            client=sme,
            body=models.QuotationTermsInput(**{**terms, "unit_price": "6.50"}),
        ),
        201,
    )
    assert (revised.revision, revised.unit_price) == (2, "6.50")
    revisions = ok(
        api("quotations.quotations_revisions_list").sync_detailed(quotation.id, client=sme), 200
    )
    assert [r.number for r in revisions.results] == [1, 2]
    pdf = generated.types.File(
        payload=io.BytesIO(b"%PDF-1.7\n%%EOF\n"), file_name="terms.pdf", mime_type="application/pdf"
    )
    attachment = ok(
        api("quotations.quotations_attachments_create").sync_detailed(
            quotation.id, client=sme, body=models.AttachmentUploadInput(file=pdf)
        ),
        201,
    )
    assert attachment.content_type == models.AttachmentTypeEnum.APPLICATIONPDF
    # Every invited SME answered: the buyer opens and compares.
    listed = ok(
        api("quotations.quotation_requests_quotations_list").sync_detailed(rfq.id, client=buyer),
        200,
    )
    assert [q.id for q in listed.results] == [quotation.id]
    comparison = ok(
        api("quotations.quotation_requests_comparison_retrieve").sync_detailed(
            rfq.id, client=buyer
        ),
        200,
    )
    (row,) = comparison.results
    assert (row.price_per_base_unit, row.is_lowest, row.base_unit) == ("6.5000", True, "piece")
    assert row.factors[0].name
    downloaded = ok(
        api("quotations.quotations_attachments_retrieve").sync_detailed(
            quotation.id, attachment.id, client=buyer
        ),
        200,
    )
    assert downloaded.payload.read() == b"%PDF-1.7\n%%EOF\n"
    awarded = ok(
        api("quotations.quotation_requests_award_create").sync_detailed(
            rfq.id,
            client=buyer,
            body=models.AwardInput(
                awards=[models.AwardItemInput(quotation=quotation.id, quantity="40000")]
            ),
        ),
        201,
    )
    (order,) = awarded.orders
    assert order.status == models.OrderStatusEnum.OPEN
    assert awarded.quotation_request.status == models.QuotationRequestStatusEnum.AWARDED
    delivery = ok(
        api("orders.orders_deliveries_create").sync_detailed(
            order.id,
            client=buyer,
            body=models.OrderDeliveryInput(
                delivered_on=today, quantity_delivered="40000", quantity_accepted="40000"
            ),
        ),
        201,
    )
    assert delivery.on_time is True
    ok(
        api("orders.orders_payments_create").sync_detailed(
            order.id,
            client=sme,
            body=models.OrderPaymentInput(received_on=today, amount="260000.00"),
        ),
        201,
    )
    closed = ok(api("orders.orders_retrieve").sync_detailed(order.id, client=sme), 200)
    assert closed.status == models.OrderStatusEnum.CLOSED
    assert closed.paid_on == today
    sme_events = ok(events_list.sync_detailed(client=sme), 200).results
    names = {type(event).__name__ for event in sme_events}
    assert {"QuotationRequestedEvent", "OrderCreatedEvent", "OrderPaymentRecordedEvent"} <= names
