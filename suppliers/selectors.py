"""Reads of the registry, already optimised: a constant number of queries per page."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from remag.accounts.caller import Caller
from suppliers.access import supplier_visible_q
from suppliers.models import (
    CAPABILITY_FIELDS,
    CERTIFICATE_FIELDS,
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierGstin,
    SupplierPlant,
    certificate_valid_q,
)


def supplier_list(*, caller: Caller) -> QuerySet[Supplier]:
    """The suppliers the caller may read. Their nested lists are read for a page at a
    time by :func:`supplier_details`, as plain rows: building model instances for them
    was most of a list page's cost."""
    return Supplier.objects.filter(supplier_visible_q(caller)).defer("search_text", "search_vector")


@dataclass
class SupplierDetails:
    """A supplier's nested lists as plain rows (dicts of column values), in the order the
    API shows them."""

    capabilities: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    gstins: list[dict[str, Any]] = field(default_factory=list)
    plants: list[dict[str, Any]] = field(default_factory=list)


_CAPABILITY_ROW = (
    "supplier_id",
    "capability__code",
    "capability__name",
    "capability__layer",
    *CAPABILITY_FIELDS,
)
_CERTIFICATE_ROW = (
    "id",
    "supplier_id",
    "certification__code",
    "certification__name",
    "certification__kind",
    "certification__edition",
    *CERTIFICATE_FIELDS,
)
_GSTIN_ROW = ("supplier_id", "gstin", "label", "state")
_PLANT_ROW = (
    "id",
    "supplier_id",
    "name",
    "address_line",
    "city",
    "district",
    "state",
    "pin_code",
    "latitude",
    "longitude",
)


def supplier_details(supplier_ids: Collection[Any]) -> dict[Any, SupplierDetails]:
    """The nested lists of ``supplier_ids`` (keyed by id; every id present): at most six
    queries whatever the number of suppliers (the scopes' and plants' capabilities only
    when there are certificates and plants), no model instances."""
    ids = list(supplier_ids)
    details: dict[Any, SupplierDetails] = {sid: SupplierDetails() for sid in ids}
    if not ids:
        return details
    for row in (
        SupplierCapability.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "capability__code")
        .values(*_CAPABILITY_ROW)
    ):
        details[row["supplier_id"]].capabilities.append(row)
    certificates = list(
        SupplierCertificate.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "certification__code", "-valid_until")
        .values(*_CERTIFICATE_ROW)
    )
    scopes: dict[Any, list[str]] = {}
    if certificates:
        for certificate_id, code in (
            SupplierCertificate.scope.through.objects.filter(
                suppliercertificate_id__in=[row["id"] for row in certificates]
            )
            .order_by("capability__code")
            .values_list("suppliercertificate_id", "capability__code")
        ):
            scopes.setdefault(certificate_id, []).append(code)
    for row in certificates:
        row["scope"] = scopes.get(row["id"], [])
        details[row["supplier_id"]].certificates.append(row)
    for row in (
        SupplierGstin.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "position")
        .values(*_GSTIN_ROW)
    ):
        details[row["supplier_id"]].gstins.append(row)
    plants = list(
        SupplierPlant.objects.filter(supplier_id__in=ids)
        .order_by("supplier_id", "name")
        .values(*_PLANT_ROW)
    )
    offered: dict[Any, list[str]] = {}
    if plants:
        for plant_id, code in (
            SupplierPlant.capabilities.through.objects.filter(
                supplierplant_id__in=[row["id"] for row in plants]
            )
            .order_by("capability__code")
            .values_list("supplierplant_id", "capability__code")
        ):
            offered.setdefault(plant_id, []).append(code)
    for row in plants:
        row["capabilities"] = offered.get(row["id"], [])
        details[row["supplier_id"]].plants.append(row)
    return details


def certificate_valid_exists(
    *,
    certification_code: str | None = None,
    certification_id: object = None,
    day: date | None = None,
    through: date | None = None,
    covering: Sequence[object] | None = None,
    scope_stated: bool | None = None,
) -> Exists:
    """True for suppliers holding a certificate of that certification (by code or id)
    valid on ``day`` (today by default) and, if given, through ``through``.

    ``covering`` (capability ids) asks for an accreditation's scope: the certificate's
    scope names at least one of those capabilities that the supplier offers. A
    certificate with no scope stated covers none (docs/matching.md, "Certificates").
    ``scope_stated`` False asks for a certificate whose scope is empty.
    """
    day = day or timezone.localdate()
    certification = (
        {"certification_id": certification_id}
        if certification_id is not None
        else {"certification__code": certification_code}
    )
    certificates = SupplierCertificate.objects.filter(
        certificate_valid_q(day, through=through), supplier=OuterRef("pk"), **certification
    )
    Scope = SupplierCertificate.scope.through
    if scope_stated is not None:
        stated = Exists(Scope.objects.filter(suppliercertificate_id=OuterRef("pk")))
        certificates = certificates.filter(stated if scope_stated else ~stated)
    if covering is not None:
        offered = SupplierCapability.objects.filter(
            supplier_id=OuterRef(OuterRef("supplier_id")), capability_id=OuterRef("capability_id")
        )
        certificates = certificates.filter(
            Exists(
                Scope.objects.filter(
                    Exists(offered),
                    suppliercertificate_id=OuterRef("pk"),
                    capability_id__in=list(covering),
                )
            )
        )
    return Exists(certificates)


def capability_list(*, include_inactive: bool = False) -> QuerySet[Capability]:
    queryset = Capability.objects.all()
    return queryset if include_inactive else queryset.filter(is_active=True)


def certification_list(*, include_inactive: bool = False) -> QuerySet[Certification]:
    """Active certifications; with ``include_inactive``, retired codes too (``nabl``), so
    a link to one still answers, saying it is retired."""
    queryset = Certification.objects.all()
    return queryset if include_inactive else queryset.filter(is_active=True)


def grade_list() -> QuerySet[MaterialGrade]:
    return MaterialGrade.objects.filter(is_active=True)
