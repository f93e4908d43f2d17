"""The value-chain taxonomy and the SME registry."""

from datetime import date

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Substr
from django.db.models.lookups import Exact

from remag.accounts.models import Organization
from remag.db import BaseModel
from remag.jobs import Job
from suppliers.choices import (
    CapacityUnit,
    CertificationCategory,
    CertificationKind,
    EnterpriseSize,
    ImportFormat,
    JobStatus,
    Layer,
    LegalForm,
    MaterialFamily,
    SupplierStatus,
    TemperatureClass,
)
from suppliers.states import STATE_CHOICES

# ------------------------------------------------------------------ taxonomy


class TaxonomyItem(BaseModel):
    """A curated entry shipped in ``suppliers/data/taxonomy.json``.

    ``shipped_hash`` is the digest of the shipped values as last loaded. When the row
    still matches it, a newer shipped version replaces it; when an operator has edited
    it in the admin, ``load_taxonomy`` leaves it alone and says so.
    """

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    shipped_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name


class Capability(TaxonomyItem):
    """Something an SME can do or supply, in one value-chain layer."""

    layer = models.CharField(max_length=20, choices=Layer.choices, db_index=True)
    synonyms = models.JSONField(default=list, blank=True)

    class Meta(TaxonomyItem.Meta):
        verbose_name_plural = "capabilities"


class Certification(TaxonomyItem):
    """A certification, accreditation, self-declaration or licence a supplier may hold.

    ``edition`` names the standard's current edition where the scheme has one (ISO
    9001:2015). A ``scoped`` one (an accreditation: ISO/IEC 17025, ISO/IEC 17020, Nadcap)
    covers only the capabilities its certificate's scope names (docs/matching.md).
    """

    category = models.CharField(max_length=20, choices=CertificationCategory.choices)
    kind = models.CharField(
        max_length=20, choices=CertificationKind.choices, default=CertificationKind.CERTIFICATION
    )
    edition = models.CharField(max_length=60, blank=True)
    scoped = models.BooleanField(
        default=False,
        help_text="An accreditation with a scope: a certificate counts for a request only "
        "when its scope names a capability the request requires.",
    )

    class Meta(TaxonomyItem.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CertificationKind.values), name="certification_kind_valid"
            ),
            # Only an accreditation has a scope.
            models.CheckConstraint(
                condition=Q(scoped=False) | Q(kind=CertificationKind.ACCREDITATION),
                name="certification_scoped_is_accreditation",
            ),
        ]


class MaterialGrade(TaxonomyItem):
    """A magnet grade. ``family``, ``energy_class`` and ``temperature_class`` are the
    grade's structure (``suppliers.grades.parse_grade`` reads them from the code when the
    shipped taxonomy does not state them); matching compares grades by them."""

    family = models.CharField(max_length=20, choices=MaterialFamily.choices)
    energy_class = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Nominal maximum energy product (BH)max in MGOe: 42 for N42SH. Empty "
        "when the code names only a family (smco5: any 1:5 magnet).",
    )
    temperature_class = models.CharField(
        max_length=2,
        choices=TemperatureClass.choices,
        blank=True,
        help_text="Sintered NdFeB: n (none), m, h, sh, uh, eh, ah, lowest first. Empty for "
        "families without temperature classes.",
    )
    max_operating_temp_c = models.PositiveSmallIntegerField(null=True, blank=True)


# ------------------------------------------------------------------ suppliers


class Supplier(BaseModel):
    """An SME in the registry, owned by one organisation of kind ``sme``.

    A portal may register a supplier on an SME's behalf: the owner is then a new SME
    organisation with no members yet, ``onboarded_by`` the portal, and the portal may
    keep changing the profile until the SME claims it (``claimed_at``).
    """

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="suppliers")
    onboarded_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    legal_name = models.CharField(max_length=200)
    trade_name = models.CharField(max_length=200, blank=True)
    legal_form = models.CharField(max_length=20, choices=LegalForm.choices, blank=True)
    udyam_number = models.CharField(max_length=19, unique=True)
    # One enterprise, one PAN (Udyam registers an enterprise by its PAN); every GSTIN of
    # the enterprise is issued on it.
    pan = models.CharField(max_length=10, unique=True, null=True, blank=True)  # noqa: DJ001
    gstin = models.CharField(max_length=15, unique=True, null=True, blank=True)  # noqa: DJ001
    enterprise_size = models.CharField(max_length=10, choices=EnterpriseSize.choices)
    # The Udyam classification is per financial year (suppliers.classification).
    classification_year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The financial year of the classification, by its first year: 2025 for "
        "2025-26. Empty: not stated (an undated classification).",
    )
    investment_inr = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Declared investment in plant and machinery or equipment, in rupees.",
    )
    turnover_inr = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Declared annual turnover, in rupees.",
    )
    women_owned = models.BooleanField(default=False)
    sc_st_owned = models.BooleanField(default=False)
    year_established = models.PositiveSmallIntegerField(null=True, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    website = models.URLField(blank=True)

    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)

    state = models.CharField(max_length=2, choices=STATE_CHOICES, db_index=True)
    district = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    pin_code = models.CharField(max_length=6, db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    status = models.CharField(
        max_length=10, choices=SupplierStatus.choices, default=SupplierStatus.PENDING
    )
    is_active = models.BooleanField(default=True, help_text="False once the owner deactivates it.")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_reason = models.CharField(max_length=300, blank=True)
    possible_duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Names, capability names and descriptions, kept by the services for search.
    search_text = models.TextField(blank=True, editable=False)
    # Filled from search_text on PostgreSQL (GIN-indexed there); unused on SQLite.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "is_active"), name="supplier_status_active"),
            models.Index(fields=("-created_at", "-id"), name="supplier_created"),
            models.Index(fields=("legal_name", "id"), name="supplier_legal_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=6, latitude__lte=38, longitude__gte=68, longitude__lte=98),
                name="supplier_location_in_india",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SupplierStatus.values), name="supplier_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(enterprise_size__in=EnterpriseSize.values),
                name="supplier_enterprise_size_valid",
            ),
            models.CheckConstraint(
                condition=(Q(investment_inr__isnull=True) | Q(investment_inr__gte=0))
                & (Q(turnover_inr__isnull=True) | Q(turnover_inr__gte=0)),
                name="supplier_classification_figures_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(classification_year__isnull=True) | Q(classification_year__gte=2020),
                name="supplier_classification_year_udyam",
            ),
            models.CheckConstraint(
                condition=Q(legal_form__in=[*LegalForm.values, ""]),
                name="supplier_legal_form_valid",
            ),
            # A GSTIN's characters 3 to 12 are the PAN it was issued on.
            models.CheckConstraint(
                condition=Q(gstin__isnull=True)
                | Q(pan__isnull=True)
                | Exact(Substr("gstin", 3, 10), F("pan")),
                name="supplier_gstin_embeds_pan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.udyam_number})"


class SupplierCapability(BaseModel):
    """What a supplier offers of one capability: capacity, lead time, grades handled."""

    # No index of their own: supplier leads the unique constraint's index (supplier,
    # capability), and capability the covering index on (capability, supplier).
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="capabilities", db_index=False
    )
    capability = models.ForeignKey(
        Capability, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    capacity_per_month = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    capacity_unit = models.CharField(max_length=20, choices=CapacityUnit.choices, blank=True)
    minimum_order = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Smallest order, in the capacity unit's quantity (kg, tonnes, pieces, ...).",
    )
    lead_time_days = models.PositiveSmallIntegerField(null=True, blank=True)
    grades = models.JSONField(default=list, blank=True)
    materials = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("capability__code",)
        constraints = [
            models.UniqueConstraint(
                fields=("supplier", "capability"), name="supplier_capability_unique"
            ),
            models.CheckConstraint(
                condition=Q(capacity_per_month__isnull=True) | ~Q(capacity_unit=""),
                name="supplier_capability_unit_with_capacity",
            ),
            models.CheckConstraint(
                condition=Q(capacity_per_month__isnull=True) | Q(capacity_per_month__gte=0),
                name="supplier_capability_capacity_non_negative",
            ),
        ]
        indexes = [
            # Covers what a match run loads of a capability's offers, and what a
            # min_capacity filter asks of them, without reading the table's rows
            # (PostgreSQL; other databases index the two key columns only).
            models.Index(
                fields=("capability", "supplier"),
                include=("capacity_per_month", "capacity_unit", "lead_time_days"),
                name="supcap_capability_offer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.capability_id}"


class SupplierCertificate(BaseModel):
    """A certificate held by a supplier. Outside its validity window it counts for nothing.

    ``issuing_body`` is the certification or accreditation body (NABL for an ISO/IEC
    17025 accreditation in India) or the regulator; empty for a self-declaration. An
    accreditation's ``scope`` names the capabilities it covers; empty means none stated
    (and such a certificate covers no required capability, docs/matching.md). A
    self-declaration may be open-ended (``valid_until`` empty); every other certificate
    has an end date (checked by the input, since the kind lives on the certification).
    """

    # No index of their own: each is the first column of one of the indexes below.
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="certificates", db_index=False
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    certificate_number = models.CharField(max_length=100)
    issuing_body = models.CharField(max_length=200, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text="Empty only for an open-ended self-declaration."
    )
    scope = models.ManyToManyField(Capability, blank=True, related_name="+")

    class Meta:
        ordering = ("certification__code", "-valid_until")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="certificate_valid_window",
            ),
        ]
        indexes = [
            models.Index(
                fields=("certification", "valid_until", "supplier"), name="supcert_certification"
            ),
            # A supplier's certificates as a match run reads them (which certification,
            # valid from and until when) without reading the table's rows (PostgreSQL;
            # other databases index the two key columns only).
            models.Index(
                fields=("supplier", "certification"),
                include=("valid_from", "valid_until"),
                name="supcert_supplier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certification_id} {self.certificate_number}"

    def is_valid_on(self, day: date, *, through: date | None = None) -> bool:
        """The one rule of validity (as :func:`certificate_valid_q` in queries): valid
        from ``valid_from`` through ``valid_until``, both days included, on ``day`` and,
        when ``through`` is given (a request's needed-by date), every day up to it: a
        certificate that expires before the delivery does not count for the request."""
        return certificate_valid_on(self.valid_from, self.valid_until, day, through=through)


def certificate_valid_on(
    valid_from: date, valid_until: date | None, day: date, *, through: date | None = None
) -> bool:
    """:meth:`SupplierCertificate.is_valid_on` over plain values (for rows read without
    model instances). ``valid_until`` None: an open-ended declaration."""
    last_day_needed = day if through is None else max(day, through)
    return valid_from <= day and (valid_until is None or last_day_needed <= valid_until)


def certificate_valid_q(day: date, *, through: date | None = None, prefix: str = "") -> Q:
    """Certificates valid on ``day`` (and through ``through``, if given):
    :meth:`SupplierCertificate.is_valid_on` as a filter (``prefix`` reaches them through a
    relation, e.g. ``"certificates__"``).

    ``matching.scoring`` may import nothing of the project, so it states the same rule
    over plain dates; tests/suppliers/test_certificates.py holds the two to agreement.
    """
    last_day_needed = day if through is None else max(day, through)
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_until__gte": last_day_needed})
        | Q(**{f"{prefix}valid_until__isnull": True})
    )


# certificate_valid_q(day) as SQL over a certificate row ``k``, both parameters the day:
# for the supplier list's filter on PostgreSQL (suppliers.filtersets), which writes its
# subquery itself. tests/suppliers/test_filters.py holds the two to the same certificates.
CERTIFICATE_VALID_SQL = "k.valid_from <= %s AND (k.valid_until >= %s OR k.valid_until IS NULL)"


class SupplierGstin(BaseModel):
    """One GSTIN of a supplier: an enterprise (one PAN) holds one GSTIN per state where it
    operates, sometimes several (one per business vertical). ``position`` 0 is the
    primary one, mirrored in ``Supplier.gstin`` (the API's ``gstin``). Every GSTIN embeds
    the supplier's PAN (characters 3 to 12): the services check it; the database checks
    it for the primary (``supplier_gstin_embeds_pan``), a check across tables being
    beyond a constraint."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="gstins")
    gstin = models.CharField(max_length=15, unique=True)
    # The state of the GST state code (its first two characters); empty for 97, "other
    # territory", which is no state.
    state = models.CharField(max_length=2, choices=STATE_CHOICES, blank=True)
    label = models.CharField(max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("supplier", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("supplier", "position"), name="supplier_gstin_position_unique"
            ),
        ]
        verbose_name = "GSTIN"
        verbose_name_plural = "GSTINs"

    def __str__(self) -> str:
        return self.gstin


class SupplierPlant(BaseModel):
    """A plant (works, unit, lab) of a supplier, beyond its main location.

    The supplier's own address and coordinates stay its main location and count as a
    plant offering every capability it offers; a plant row adds another site, offering
    the ``capabilities`` it names (of the supplier's), or all of them when it names
    none. Distance matching uses the nearest site offering a required capability
    (docs/matching.md).
    """

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="plants")
    name = models.CharField(max_length=120)
    address_line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    district = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    pin_code = models.CharField(max_length=6, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="+")

    class Meta:
        ordering = ("supplier", "name")
        constraints = [
            models.UniqueConstraint(fields=("supplier", "name"), name="supplier_plant_name_unique"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=6, latitude__lte=38, longitude__gte=68, longitude__lte=98),
                name="supplier_plant_location_in_india",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# The fields a registration, an update or an import row may set (everything else is
# kept by the services: ownership, status, verification, search).
PROFILE_FIELDS = (
    "legal_name",
    "trade_name",
    "legal_form",
    "udyam_number",
    "pan",
    "gstin",
    "enterprise_size",
    "classification_year",
    "investment_inr",
    "turnover_inr",
    "women_owned",
    "sc_st_owned",
    "year_established",
    "employees",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "state",
    "district",
    "city",
    "address_line",
    "pin_code",
    "latitude",
    "longitude",
)
CAPABILITY_FIELDS = (
    "capacity_per_month",
    "capacity_unit",
    "minimum_order",
    "lead_time_days",
    "grades",
    "materials",
    "description",
)
CERTIFICATE_FIELDS = ("certificate_number", "issuing_body", "valid_from", "valid_until")
GSTIN_FIELDS = ("gstin", "label")
PLANT_FIELDS = (
    "name",
    "address_line",
    "city",
    "district",
    "state",
    "pin_code",
    "latitude",
    "longitude",
)


# ------------------------------------------------------------------ bulk onboarding


class SupplierRepresentation(models.Model):
    """A supplier's list representation (the API's ``SupplierSerializer`` output, from
    the ``owner`` key on), stored as JSON text so that a list page is a plain read
    (``suppliers.representations``). A cache: the list falls back to building a
    representation live whenever the stored one is missing, stale or of another version.

    Every write to a supplier or to its nested rows, however made (services, the admin,
    ``COPY``, SQL), bumps ``gen`` and clears the texts, by PostgreSQL triggers (migration
    0016); a refresh writes its texts only if ``gen`` is still the one it read, so a
    refresh racing a write never stores what the write changed. ``as_of`` and
    ``fresh_until`` bound the days the date-dependent fields (a certificate's
    ``is_valid``, ``classification_stale``) hold for."""

    supplier = models.OneToOneField(
        Supplier,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # a trigger deletes it with the supplier
        db_constraint=False,  # the triggers may write it for a supplier being deleted
        related_name="+",
    )
    gen = models.BigIntegerField(default=0, db_default=0)
    version = models.CharField(max_length=32, default="", db_default="", blank=True)
    public = models.TextField(null=True, blank=True)  # noqa: DJ001 (NULL: cleared)
    private = models.TextField(null=True, blank=True)  # noqa: DJ001 (NULL: cleared)
    as_of = models.DateField(null=True, blank=True)
    fresh_until = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"representation of {self.supplier_id} (gen {self.gen})"


class ImportJob(Job):
    """A file of suppliers to validate and upsert (by Udyam number), row by row.

    The file is kept in the row itself so any worker on any machine can process it,
    and processing is checkpointed (``rows_processed``) chunk by chunk, in the same
    transaction as the chunk's writes: a rerun after a crash resumes where it stopped.
    """

    owner = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_format = models.CharField(max_length=10, choices=ImportFormat.choices)
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(editable=False)
    size_bytes = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("status", "heartbeat_at"), name="importjob_status"),
            models.Index(fields=("status", "enqueued_at"), name="importjob_status_enqueued"),
        ]

    def __str__(self) -> str:
        return f"import {self.id} ({self.status})"


class ImportRowError(models.Model):
    """Why one row (1-based, header excluded) of an import failed."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    field = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    value = models.TextField(blank=True)

    class Meta:
        ordering = ("row_number", "id")
        indexes = [models.Index(fields=("job", "row_number", "id"), name="importrowerror_job")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.field} {self.message}"


class CertificateValiditySweep(models.Model):
    """One row: the last day whose certificate validity changes have been announced
    (:func:`suppliers.services.certificates_validity_sweep`). A certificate turns valid
    or lapses with the date alone, no write to it; the sweep tells the matching apps of
    every supplier with one that turned since this day."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    through = models.DateField()

    def __str__(self) -> str:
        return f"certificate validity announced through {self.through}"
