"""Certificates that turn valid or lapse with the date alone (no write to anything) are
announced once a day with ``supplier_changed``, so matching and magnets rerun what they
scored from them (suppliers.services.certificates_validity_sweep)."""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from suppliers import services
from suppliers.models import CertificateValiditySweep
from suppliers.signals import supplier_changed
from suppliers.tasks import certificates_validity_sweep as sweep_task
from tests.factories import SupplierCertificateFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def told() -> Iterator[list[tuple[str, str]]]:
    """What ``supplier_changed`` was sent with, as (supplier id, reason)."""
    heard: list[tuple[str, str]] = []

    def listen(supplier_id: object, reason: str, **_: Any) -> None:
        heard.append((str(supplier_id), reason))

    supplier_changed.connect(listen, dispatch_uid="test.validity_sweep")
    yield heard
    supplier_changed.disconnect(dispatch_uid="test.validity_sweep")


def certificate(**dates: date | None) -> str:
    """A supplier (active unless ``is_active`` says otherwise) with one certificate of
    ``dates``; its id."""
    return str(SupplierCertificateFactory(**dates).supplier_id)


def announced_through(day: date) -> None:
    CertificateValiditySweep.objects.update_or_create(id=1, defaults={"through": day})


def test_the_certificates_that_turned_today_are_announced_once(told: list[Any]) -> None:
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    began_today = certificate(valid_from=today)
    lapsed_today = certificate(valid_until=yesterday)  # valid through yesterday
    certificate(valid_until=today)  # valid through today: lapses tomorrow
    certificate(valid_from=today + timedelta(days=1))  # not yet
    certificate(valid_until=today - timedelta(days=40))  # lapsed long ago, announced then
    certificate(valid_until=None)  # open-ended
    withdrawn = SupplierFactory(is_active=False)
    SupplierCertificateFactory(supplier=withdrawn, valid_from=today)
    announced_through(yesterday)

    expected = sorted([began_today, lapsed_today])
    assert services.certificates_validity_sweep(today=today) == expected
    assert sorted(told) == [(sid, "certificates_turned") for sid in expected]
    assert CertificateValiditySweep.objects.get().through == today

    # The rest of the day: one row read, nothing told again.
    told.clear()
    assert services.certificates_validity_sweep(today=today) == []
    assert sweep_task.apply().get() == []
    assert told == []


def test_days_missed_are_announced_by_the_next_sweep(told: list[Any]) -> None:
    """A worker down for three days misses nothing: every day since the last announced."""
    today = timezone.localdate()
    lapsed = certificate(valid_until=today - timedelta(days=3))  # lapsed two days ago
    began = certificate(valid_from=today - timedelta(days=1))
    certificate(valid_until=today - timedelta(days=5))  # lapsed before the last sweep
    announced_through(today - timedelta(days=3))

    assert services.certificates_validity_sweep(today=today) == sorted([lapsed, began])
    # And the day after, only what turned that day.
    tomorrow = today + timedelta(days=1)
    lapses_tomorrow = certificate(valid_until=today)
    assert services.certificates_validity_sweep(today=tomorrow) == [lapses_tomorrow]


def test_a_first_sweep_looks_back_a_month(told: list[Any]) -> None:
    today = timezone.localdate()
    lookback = services.VALIDITY_SWEEP_FIRST_LOOKBACK_DAYS
    recent = certificate(valid_until=today - timedelta(days=lookback - 1))
    certificate(valid_until=today - timedelta(days=lookback + 2))
    assert not CertificateValiditySweep.objects.exists()

    assert services.certificates_validity_sweep(today=today) == [recent]
    assert CertificateValiditySweep.objects.get().through == today


def test_a_supplier_with_several_turning_certificates_is_told_once(told: list[Any]) -> None:
    today = timezone.localdate()
    supplier = SupplierFactory()
    SupplierCertificateFactory(supplier=supplier, valid_from=today)
    SupplierCertificateFactory(
        supplier=supplier, certificate_number="QMS-OLD", valid_until=today - timedelta(days=1)
    )
    announced_through(today - timedelta(days=1))

    assert services.certificates_validity_sweep(today=today) == [str(supplier.id)]
    assert told == [(str(supplier.id), "certificates_turned")]
