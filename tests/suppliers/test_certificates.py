"""Certificate validity is one rule: ``SupplierCertificate.is_valid_on`` (and its query
form ``certificate_valid_q``), which the API, the registry filter and matching's
candidate query use (matching adds the request's needed-by date: valid through it), and
which the pure scoring module restates over plain dates. These
tests hold every form of it to the same answer, boundaries included."""

from datetime import date, timedelta
from typing import Any

import pytest

from matching.candidates import _valid_certificate
from matching.scoring import Candidate, Criteria, batch_from, certificate_counts
from suppliers.models import Certification, Supplier, SupplierCertificate, certificate_valid_q
from suppliers.selectors import certificate_valid_exists
from tests.factories import SupplierCertificateFactory

pytestmark = pytest.mark.django_db

START = date(2026, 1, 10)
END = date(2026, 12, 31)
DAYS = {
    "the day before": (START - timedelta(days=1), False),
    "the first day": (START, True),
    "a day within": (date(2026, 6, 1), True),
    "the last day": (END, True),
    "the day after": (END + timedelta(days=1), False),
}


# A run on ``day`` for a request needed by ``through``: the certificate must be valid on
# the run date and every day up to the needed-by date.
WINDOWS = {
    **{f"{name}, no needed-by date": (day, None, valid) for name, (day, valid) in DAYS.items()},
    "needed by a day within": (START, date(2026, 6, 1), True),
    "needed by the last day": (START, END, True),
    "needed by the day after it expires": (START, END + timedelta(days=1), False),
    "needed by a past date": (date(2026, 6, 1), START - timedelta(days=1), True),
    "valid through, but not yet on the run date": (
        START - timedelta(days=1),
        date(2026, 6, 1),
        False,
    ),
}


@pytest.mark.parametrize(("day", "through", "valid"), WINDOWS.values(), ids=WINDOWS.keys())
def test_every_form_of_the_rule_agrees(day: date, through: date | None, valid: bool) -> None:
    certificate = SupplierCertificateFactory(valid_from=START, valid_until=END)
    supplier = certificate.supplier
    iso = Certification.objects.get(code="iso-9001")

    assert certificate.is_valid_on(day, through=through) is valid
    assert certificate_counts(START, END, day=day, through=through) is valid
    rule = certificate_valid_q(day, through=through)
    assert SupplierCertificate.objects.filter(rule).exists() is valid
    through_relation = certificate_valid_q(day, through=through, prefix="certificates__")
    assert Supplier.objects.filter(through_relation, id=supplier.id).exists() is valid
    by_code = certificate_valid_exists(certification_code="iso-9001", day=day, through=through)
    assert Supplier.objects.filter(by_code, id=supplier.id).exists() is valid
    by_id = _valid_certificate(iso.id, day, through)
    assert Supplier.objects.filter(by_id, id=supplier.id).exists() is valid

    criteria = Criteria(
        required_capabilities=("jet-milling",),
        run_date=day,
        required_certifications=("iso-9001",),
        needed_by=through,
    )
    candidate = Candidate(supplier_id=str(supplier.id), certificates=[("iso-9001", START, END)])
    assert bool(batch_from(criteria, [candidate]).required_held[0, 0]) is valid


OPEN_ENDED = {
    "the day before": (START - timedelta(days=1), None, False),
    "the first day": (START, None, True),
    "years later": (date(2040, 1, 1), None, True),
    "needed by years later": (START, date(2040, 1, 1), True),
}


@pytest.mark.parametrize(("day", "through", "valid"), OPEN_ENDED.values(), ids=OPEN_ENDED.keys())
def test_an_open_ended_declaration_agrees_in_every_form(
    day: date, through: date | None, valid: bool
) -> None:
    """A self-declaration without an end date is valid from its date on, in every form."""
    rohs = Certification.objects.get(code="rohs")
    certificate = SupplierCertificateFactory(
        certification=rohs, issuing_body="", valid_from=START, valid_until=None
    )

    assert certificate.is_valid_on(day, through=through) is valid
    assert certificate_counts(START, None, day=day, through=through) is valid
    assert (
        SupplierCertificate.objects.filter(certificate_valid_q(day, through=through)).exists()
        is valid
    )
    by_id = _valid_certificate(rohs.id, day, through)
    assert Supplier.objects.filter(by_id, id=certificate.supplier_id).exists() is valid


def test_the_api_shows_validity_by_the_same_rule(api_client: Any) -> None:
    today = date.today()  # noqa: DTZ011
    valid = SupplierCertificateFactory(valid_from=today, valid_until=today)
    expired = SupplierCertificateFactory(
        valid_from=today - timedelta(days=10), valid_until=today - timedelta(days=1)
    )

    for certificate, expected in ((valid, True), (expired, False)):
        body = api_client.get(f"/api/v1/suppliers/{certificate.supplier_id}/").json()
        assert [c["is_valid"] for c in body["certificates"]] == [expected]
