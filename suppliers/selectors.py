"""Reads of the registry, already optimised: a constant number of queries per page."""

from collections.abc import Sequence
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
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

# Only what the API shows of nested rows: no timestamps, no taxonomy descriptions.
CAPABILITY_COLUMNS = ("supplier_id", "capability_id", *CAPABILITY_FIELDS)
CERTIFICATE_COLUMNS = ("supplier_id", "certification_id", *CERTIFICATE_FIELDS)


def supplier_list(*, caller: Caller) -> QuerySet[Supplier]:
    return (
        Supplier.objects.filter(supplier_visible_q(caller))
        .defer("search_text", "search_vector")
        .prefetch_related(
            Prefetch(
                "capabilities",
                queryset=SupplierCapability.objects.select_related("capability").only(
                    *CAPABILITY_COLUMNS, "capability__code", "capability__name", "capability__layer"
                ),
            ),
            Prefetch(
                "certificates",
                queryset=SupplierCertificate.objects.select_related("certification")
                .only(
                    *CERTIFICATE_COLUMNS,
                    "certification__code",
                    "certification__name",
                    "certification__kind",
                    "certification__edition",
                )
                .prefetch_related(
                    Prefetch("scope", queryset=Capability.objects.only("id", "code"))
                ),
            ),
            Prefetch("gstins", queryset=SupplierGstin.objects.order_by("position")),
            Prefetch(
                "plants",
                queryset=SupplierPlant.objects.order_by("name").prefetch_related(
                    Prefetch("capabilities", queryset=Capability.objects.only("id", "code"))
                ),
            ),
        )
    )


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
