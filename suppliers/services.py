"""Writes to the registry. Views, serializers and the import call these; none of them
holds a rule of its own.

Inputs are validated data (from ``suppliers.inputs``): ``profile`` holds the
supplier's own fields, ``capabilities`` and ``certificates`` the nested lists with
taxonomy rows already resolved. A nested list given on update replaces the old one.
"""

import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from remag.accounts.caller import Caller
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization, User
from remag.accounts.selectors import ONBOARDERS, organization_acting
from remag.accounts.services import organization_create
from remag.errors import NotAllowed
from remag.webhooks import events
from remag.webhooks.choices import EventType
from suppliers.choices import SupplierStatus
from suppliers.exceptions import SupplierAlreadyClaimed, SupplierAlreadyRegistered
from suppliers.models import (
    CAPABILITY_FIELDS,
    CERTIFICATE_FIELDS,
    PLANT_FIELDS,
    PROFILE_FIELDS,
    CertificateValiditySweep,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierGstin,
    SupplierPlant,
)
from suppliers.signals import send_supplier_changed
from suppliers.states import state_of_gstin

# Names at least this similar (difflib ratio, after normalising) in one PIN code are
# flagged for operators as possible duplicates.
DUPLICATE_NAME_SIMILARITY = 0.85

_LEGAL_SUFFIXES = re.compile(
    r"\b(private|pvt|limited|ltd|llp|opc|co|company|industries|enterprises|and|the|m/s)\b"
)
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


@dataclass(frozen=True)
class SupplierInput:
    """``gstins`` is the full list, the primary first (``profile["gstin"]`` its number);
    each item may name the API field it came from (``field``) for a duplicate's error."""

    profile: dict[str, Any]
    capabilities: Sequence[dict[str, Any]] | None = None
    certificates: Sequence[dict[str, Any]] | None = None
    gstins: Sequence[dict[str, Any]] | None = None
    plants: Sequence[dict[str, Any]] | None = None


@functools.lru_cache(maxsize=65_536)
def normalise_name(name: str) -> str:
    """A name for comparison: lower case, words only, legal suffixes dropped. Kept for the
    process (a pure function of the text): an import compares each row with every name
    of its PIN code, the same names row after row."""
    text = _NON_WORD.sub(" ", name.lower())
    return " ".join(_LEGAL_SUFFIXES.sub(" ", text).split())


def _check_unique_identifiers(
    profile: dict[str, Any],
    *,
    gstins: Sequence[dict[str, Any]] | None = None,
    exclude_id: object = None,
) -> None:
    """Refuse a Udyam number, GSTIN or PAN another supplier holds (409, naming the field;
    a GSTIN by the field it was given in, ``gstin`` or ``gstins[i].gstin``).

    One enterprise is one PAN, so a second registration of a known PAN (under another
    Udyam number, or with a GSTIN of another state) is the same enterprise again. A GSTIN
    is checked before the PAN it embeds: the very number is the more precise answer.
    """
    udyam = profile.get("udyam_number")
    if udyam:
        existing = (
            Supplier.objects.filter(udyam_number=udyam)
            .exclude(id=exclude_id)
            .values_list("id", flat=True)
            .first()
        )
        if existing is not None:
            raise SupplierAlreadyRegistered(field="udyam_number", existing_id=existing)
    items = list(gstins or ())
    if not items and profile.get("gstin"):
        items = [{"gstin": profile["gstin"], "field": "gstin"}]
    for index, item in enumerate(items):
        number = item["gstin"]
        holder = (
            SupplierGstin.objects.filter(gstin=number)
            .exclude(supplier_id=exclude_id)
            .values_list("supplier_id", flat=True)
            .first()
        ) or (
            Supplier.objects.filter(gstin=number)
            .exclude(id=exclude_id)
            .values_list("id", flat=True)
            .first()
        )
        if holder is not None:
            field = item.get("field") or f"gstins[{index}].gstin"
            raise SupplierAlreadyRegistered(field=field, existing_id=holder)
    pan = profile.get("pan")
    if pan:
        existing = (
            Supplier.objects.filter(pan=pan).exclude(id=exclude_id).values_list("id", flat=True)
        ).first()
        if existing is not None:
            raise SupplierAlreadyRegistered(field="pan", existing_id=existing)


def name_similarity(target: str, other: str, *, letters: Counter[str] | None = None) -> float:
    """difflib's ratio of two normalised names when it reaches ``DUPLICATE_NAME_SIMILARITY``,
    else 0. The ratio costs a tenth of a millisecond; it is computed only when two upper
    bounds of it, from the lengths and from the letters the names share (difflib's own
    ``real_quick_ratio`` and ``quick_ratio``), reach the threshold, so the answer is the
    ratio's. ``letters`` is ``Counter(target)``, for a caller comparing one name with many."""
    threshold = DUPLICATE_NAME_SIMILARITY
    total = len(target) + len(other)
    if not total:
        return 1.0  # two empty names are alike, as difflib has it
    if 2 * min(len(target), len(other)) < threshold * total:
        return 0.0
    # The letters the two share, counted with repetition: a C count per letter of the
    # target rather than a Counter of the other name intersected in Python.
    counts = Counter(target) if letters is None else letters
    shared = sum(min(n, other.count(letter)) for letter, n in counts.items())
    if 2 * shared < threshold * total:
        return 0.0
    ratio = difflib.SequenceMatcher(None, target, other).ratio()
    return ratio if ratio >= threshold else 0.0


def _find_similar(*, legal_name: str, pin_code: str, exclude_id: object = None) -> UUID | None:
    """The id of the supplier of ``pin_code`` whose legal or trade name is most like
    ``legal_name`` (:func:`name_similarity` of the normalised names; the oldest of
    equals), or None. An industrial estate's pin code holds thousands of SMEs: their
    names are read as plain values and most are set aside by the cheap bounds (at 1,681
    suppliers of one pin code, 118 ms -> 24 ms a registration)."""
    target = normalise_name(legal_name)
    letters = Counter(target)
    best: tuple[float, UUID] | None = None
    candidates = (
        Supplier.objects.filter(pin_code=pin_code)
        .exclude(id=exclude_id)
        .order_by("created_at", "id")
        .values_list("id", "legal_name", "trade_name")
    )
    for other_id, *names in candidates:
        for name in filter(None, names):
            ratio = name_similarity(target, normalise_name(name), letters=letters)
            if ratio and (best is None or ratio > best[0]):
                best = (ratio, other_id)
    return best[1] if best else None


def _save_or_conflict(supplier: Supplier, data: SupplierInput) -> None:
    try:
        with transaction.atomic():
            supplier.save()
            if data.gstins is not None:
                _replace_gstins(supplier, data.gstins)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same identifiers.
        _check_unique_identifiers(data.profile, gstins=data.gstins, exclude_id=supplier.id)
        raise


def _replace_gstins(supplier: Supplier, items: Iterable[dict[str, Any]]) -> None:
    """Replace a supplier's GSTINs with ``items``, the first the primary."""
    SupplierGstin.objects.filter(supplier=supplier).delete()
    SupplierGstin.objects.bulk_create(
        SupplierGstin(
            supplier=supplier,
            gstin=item["gstin"],
            state=state_of_gstin(item["gstin"]),
            label=item.get("label", ""),
            position=position,
        )
        for position, item in enumerate(items)
    )


def _replace_plants(supplier: Supplier, items: Iterable[dict[str, Any]]) -> None:
    """Replace a supplier's plants (and what each offers) with ``items``."""
    SupplierPlant.objects.filter(supplier=supplier).delete()
    items = list(items)
    plants = SupplierPlant.objects.bulk_create(
        SupplierPlant(
            supplier=supplier, **{name: item[name] for name in PLANT_FIELDS if name in item}
        )
        for item in items
    )
    through = SupplierPlant.capabilities.through
    through.objects.bulk_create(
        through(supplierplant_id=plant.id, capability_id=capability.id)
        for plant, item in zip(plants, items, strict=True)
        for capability in item.get("capabilities", ())
    )


def _replace_items(
    supplier: Supplier,
    model: type[SupplierCapability] | type[SupplierCertificate],
    taxonomy_field: str,
    fields: tuple[str, ...],
    items: Iterable[dict[str, Any]],
) -> list[Any]:
    """Replace a supplier's capabilities or certificates with ``items``; the new rows, in
    order (their UUIDs are made in Python, so known on every backend)."""
    model.objects.filter(supplier=supplier).delete()
    return model.objects.bulk_create(
        model(
            supplier=supplier,
            **{taxonomy_field: item[taxonomy_field]},
            **{name: item[name] for name in fields if name in item},
        )
        for item in items
    )


def _replace_capabilities(supplier: Supplier, items: Iterable[dict[str, Any]]) -> None:
    _replace_items(supplier, SupplierCapability, "capability", CAPABILITY_FIELDS, items)


def _replace_certificates(supplier: Supplier, items: Iterable[dict[str, Any]]) -> None:
    """Replace the certificates, then their scopes (capabilities, possibly none)."""
    items = list(items)
    rows = _replace_items(supplier, SupplierCertificate, "certification", CERTIFICATE_FIELDS, items)
    Scope = SupplierCertificate.scope.through
    Scope.objects.bulk_create(
        Scope(suppliercertificate_id=row.id, capability_id=capability.id)
        for row, item in zip(rows, items, strict=True)
        for capability in item.get("scope", ())
    )


def owner_for_onboarding(*, legal_name: str) -> Organization:
    """A new SME organisation, with no members yet, to own a supplier a portal registers."""
    return organization_create(name=legal_name[:200], kind=OrganizationKind.SME)


def supplier_owners_for_registration(
    *, caller: Caller, requested: UUID | None, legal_name: str
) -> tuple[Organization, Organization | None]:
    """Who owns a new supplier and who onboarded it (docs/registry.md): the caller's SME
    organisation (``requested`` names one), else, for a portal or an operator, a new SME
    organisation that the caller onboards. Call inside the registration's transaction."""
    sme = organization_acting(
        caller=caller,
        kinds=(OrganizationKind.SME,),
        requested=requested,
        label="SME",
        purpose="owns this supplier",
    )
    if sme is not None:
        return sme, None
    onboarder = organization_acting(caller=caller, kinds=ONBOARDERS, first_of_several=True)
    if onboarder is None and not caller.is_operator:
        raise NotAllowed("Only SMEs, portals and operators register suppliers.")
    return owner_for_onboarding(legal_name=legal_name), onboarder


@transaction.atomic
def supplier_register(
    *,
    owner: Organization,
    data: SupplierInput,
    onboarded_by: Organization | None = None,
) -> Supplier:
    """Register a supplier with its capabilities and certificates, all or nothing.

    Raises ``SupplierAlreadyRegistered`` (409) for a known Udyam number, PAN or GSTIN; a
    very similar name in the same PIN code is accepted and flagged ``possible_duplicate_of``.
    """
    profile = data.profile
    _check_unique_identifiers(profile, gstins=data.gstins)
    supplier = Supplier(
        owner=owner,
        onboarded_by=onboarded_by,
        claimed_at=None if onboarded_by else timezone.now(),
        **{name: profile[name] for name in PROFILE_FIELDS if name in profile},
    )
    supplier.possible_duplicate_of_id = _find_similar(
        legal_name=supplier.legal_name, pin_code=supplier.pin_code
    )
    _save_or_conflict(supplier, data)
    _replace_capabilities(supplier, data.capabilities or ())
    _replace_certificates(supplier, data.certificates or ())
    _replace_plants(supplier, data.plants or ())
    supplier_search_refresh(supplier_ids=[supplier.id])
    send_supplier_changed(supplier.id, "created")
    events.supplier_event(EventType.SUPPLIER_CREATED, supplier)
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, data: SupplierInput) -> Supplier:
    profile = data.profile
    _check_unique_identifiers(profile, gstins=data.gstins, exclude_id=supplier.id)
    for name in PROFILE_FIELDS:
        if name in profile:
            setattr(supplier, name, profile[name])
    if {"legal_name", "pin_code"} & profile.keys():
        supplier.possible_duplicate_of_id = _find_similar(
            legal_name=supplier.legal_name, pin_code=supplier.pin_code, exclude_id=supplier.id
        )
    _save_or_conflict(supplier, data)
    if data.capabilities is not None:
        _replace_capabilities(supplier, data.capabilities)
    if data.certificates is not None:
        _replace_certificates(supplier, data.certificates)
    if data.plants is not None:
        _replace_plants(supplier, data.plants)
    supplier_search_refresh(supplier_ids=[supplier.id])
    send_supplier_changed(supplier.id, "updated")
    return supplier


def supplier_deactivate(*, supplier: Supplier) -> Supplier:
    """The owner withdraws the profile from the public registry (kept for history)."""
    if supplier.is_active:
        supplier.is_active = False
        supplier.save(update_fields=["is_active", "updated_at"])
        send_supplier_changed(supplier.id, "deactivated")
    return supplier


@transaction.atomic
def supplier_verify(*, supplier: Supplier, by: User | None) -> Supplier:
    supplier.status = SupplierStatus.ACTIVE
    supplier.verified_at = timezone.now()
    supplier.verified_by = by
    supplier.status_reason = ""
    supplier.save(
        update_fields=["status", "verified_at", "verified_by", "status_reason", "updated_at"]
    )
    send_supplier_changed(supplier.id, "verified")
    events.supplier_event(EventType.SUPPLIER_VERIFIED, supplier)
    return supplier


@transaction.atomic
def supplier_suspend(*, supplier: Supplier, by: User | None, reason: str) -> Supplier:
    supplier.status = SupplierStatus.SUSPENDED
    supplier.status_reason = reason[:300]
    supplier.save(update_fields=["status", "status_reason", "updated_at"])
    send_supplier_changed(supplier.id, "suspended")
    events.supplier_event(EventType.SUPPLIER_SUSPENDED, supplier, reason=supplier.status_reason)
    return supplier


# How far back the first sweep of a deployment looks (no day announced yet): certificates
# that turned within this many days before it are announced too.
VALIDITY_SWEEP_FIRST_LOOKBACK_DAYS = 30


def certificates_validity_sweep(*, today: date | None = None) -> list[str]:
    """Announce the suppliers whose certificates turned valid or lapsed since the last
    announced day, with ``supplier_changed`` (reason ``certificates_turned``): matching
    reruns their opportunities and open calls, and magnets the owner's offers, exactly
    as after an edit of the certificates.

    A certificate valid from day D turns valid on D; one valid until D lapses on D + 1;
    neither is a write to anything, so nothing else notices. Days are the deployment's
    (``TIME_ZONE``). The first call of a day announces every day since the last one
    announced (so a worker down over a weekend misses nothing) and records today; later
    calls that day read one row and return. Active profiles only (a deactivated one
    matches nothing). Returns the ids announced, in order."""
    today = today or timezone.localdate()
    with transaction.atomic():
        CertificateValiditySweep.objects.get_or_create(
            id=1, defaults={"through": today - timedelta(days=VALIDITY_SWEEP_FIRST_LOOKBACK_DAYS)}
        )
        # Locked: two sweeps at once (a beat restarted, a manual call) announce once.
        mark = CertificateValiditySweep.objects.select_for_update().get(id=1)
        if mark.through >= today:
            return []
        since = mark.through
        turned = list(
            SupplierCertificate.objects.filter(
                Q(valid_from__gt=since, valid_from__lte=today)
                | Q(valid_until__gte=since, valid_until__lt=today),
                supplier__is_active=True,
            )
            .order_by("supplier_id")
            .values_list("supplier_id", flat=True)
            .distinct()
        )
        for supplier_id in turned:
            send_supplier_changed(supplier_id, "certificates_turned")
        mark.through = today
        mark.save(update_fields=["through"])
    return [str(supplier_id) for supplier_id in turned]


@transaction.atomic
def supplier_claim(
    *,
    supplier: Supplier,
    organization: Organization,
    method: str,
    delegate_to_portal: bool = False,
    granted_by: User | None = None,
) -> Supplier:
    """The SME ``organization`` takes over a profile a portal registered: it becomes the
    owner, and the portal's right to change the profile ends, unless the SME delegates
    it (``delegate_to_portal``; revocable). The organisation the portal created to hold
    the profile is deactivated when it has nothing else. A ``supplier.claimed`` event goes
    to the SME and the portal.

    Raises ``SupplierAlreadyClaimed`` (409) when the profile already has its SME: two
    organisations never hold one profile (the row is locked while this runs).
    """
    from remag.accounts.services import delegation_grant

    supplier = Supplier.objects.select_for_update().select_related("owner").get(pk=supplier.pk)
    if supplier.claimed_at is not None:
        raise SupplierAlreadyClaimed(supplier_id=supplier.id)
    if organization.kind != OrganizationKind.SME or not organization.is_active:
        raise NotAllowed("Only an active SME organisation claims a supplier profile.")
    placeholder = supplier.owner
    supplier.owner = organization
    supplier.claimed_at = timezone.now()
    supplier.save(update_fields=["owner", "claimed_at", "updated_at"])
    if (
        placeholder.id != organization.id
        and not placeholder.memberships.exists()
        and not Supplier.objects.filter(owner=placeholder).exists()
    ):
        placeholder.is_active = False
        placeholder.save(update_fields=["is_active", "updated_at"])
    send_supplier_changed(supplier.id, "claimed", previous_owner_id=placeholder.id)
    portal_access = "ended"
    if delegate_to_portal and supplier.onboarded_by_id is not None:
        delegation_grant(grantor=organization, grantee=supplier.onboarded_by, granted_by=granted_by)
        portal_access = "delegated"
    events.emit(
        EventType.SUPPLIER_CLAIMED,
        events.supplier_payload(
            supplier,
            claimed_by=events.object_payload(events.ORGANIZATION, organization),
            method=method,
            portal_access=portal_access,
        ),
        audience=[organization.id, supplier.onboarded_by_id],
    )
    return supplier


def supplier_search_text(supplier: Supplier, capabilities: Iterable[SupplierCapability]) -> str:
    parts = [supplier.legal_name, supplier.trade_name, supplier.city, supplier.district]
    for item in capabilities:
        capability = item.capability
        parts += [capability.name, " ".join(capability.synonyms), item.description]
        parts += list(item.materials) + list(item.grades)
    return " ".join(p for p in parts if p)


def supplier_search_refresh(*, supplier_ids: Sequence[object]) -> None:
    """Rebuild the search text (and, on PostgreSQL, the search vector) of suppliers."""
    suppliers = Supplier.objects.filter(id__in=supplier_ids).prefetch_related(
        "capabilities__capability"
    )
    changed = []
    for supplier in suppliers:
        supplier.search_text = supplier_search_text(supplier, supplier.capabilities.all())
        changed.append(supplier)
    Supplier.objects.bulk_update(changed, ["search_text"], batch_size=1000)
    search_vector_refresh(supplier_ids=supplier_ids)


# A supplier's search vector as search_vector_refresh computes it, as SQL over the row's
# own columns: for rows written by COPY (remag.db.bulk_copy's ``computed``), each written
# once with its vector rather than inserted and then updated.
# tests/suppliers/test_demo.py holds the two equal.
SEARCH_VECTOR_SQL = {
    "search_vector": "to_tsvector('english'::regconfig, COALESCE(\"search_text\", ''))"
}


def search_vector_refresh(*, supplier_ids: Sequence[object] | None = None) -> None:
    if connection.vendor != "postgresql":
        return
    queryset = Supplier.objects.all()
    if supplier_ids is not None:
        queryset = queryset.filter(id__in=supplier_ids)
    queryset.update(search_vector=SearchVector("search_text", config="english"))
