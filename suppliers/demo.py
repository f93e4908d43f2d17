"""Plausible demo SMEs spread over real Indian industrial clusters, deterministic for a
seed, written with bulk inserts (100,000 suppliers in well under two minutes on
PostgreSQL; see bench/README.md). Identifiers are valid: Udyam numbers with the Udyam
portal's state codes (KR for Karnataka), PANs that fit the legal form (its suffix) and
the name, GSTINs embedding the PAN with correct check characters, and PIN codes of post
offices in the cluster's district (``Cluster.pin_codes``). Each GSTIN is also a row of
the supplier's GSTIN list; about one supplier with a GSTIN in eight operates in a second
state too: a second GSTIN there (same PAN) and two plants, one at home offering
everything, one in a cluster of the other state offering some of its capabilities.
Those extras come from a second random stream, so a seed's suppliers are otherwise what
they were before plants existed."""

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from remag.accounts.models import Organization
from remag.concurrency import can_produce_apart, produced_apart
from remag.db import built, bulk_copy, copy_in, copy_text, foreign_keys_checked_as_written
from suppliers.choices import (
    LAYER_CAPACITY_UNITS,
    LEGAL_FORM_PAN_HOLDERS,
    MANUFACTURING_LAYERS,
    CertificationKind,
    EnterpriseSize,
    Layer,
    LegalForm,
    SupplierStatus,
)
from suppliers.classification import financial_year_of, limits_for
from suppliers.models import (
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierGstin,
    SupplierPlant,
)
from suppliers.services import SEARCH_VECTOR_SQL
from suppliers.states import STATES_BY_CODE
from suppliers.validators import gstin_check_character

# A seed's Udyam serial numbers start at seed * SEED_STRIDE, so seeds never collide.
SEED_STRIDE = 200_000
MAX_SUPPLIERS_PER_SEED = SEED_STRIDE
# The share of suppliers with a GSTIN that also operate in a second state.
SECOND_STATE_SHARE = 0.12


@dataclass(frozen=True)
class Cluster:
    city: str
    district: str
    state: str
    udyam_district: str
    # PIN codes of delivery post offices in the district (India Post's PIN code
    # directory): a 3-digit prefix is a sorting district, which often spans several
    # revenue districts (410 is Pune's Chakan and Raigad's Panvel; 682 includes
    # Lakshadweep), so a prefix would not keep a supplier in its district.
    pin_codes: tuple[str, ...]
    latitude: float
    longitude: float
    layer_weights: tuple[int, int, int, int, int]  # components, chemicals, testing, downstream, rnd


# Pune: city delivery offices (GPO, Shivajinagar, Hadapsar, Pimpri, Chinchwad, Bhosari,
# Kothrud, Hinjewadi, Chikhali). Chakan area (Pune district): Chakan, Rajgurunagar, Talegaon
# Dabhade, Alandi. Chhatrapati Sambhajinagar: city offices and Waluj MIDC. Chennai:
# GPO, Mylapore, T. Nagar, Adyar, Guindy Industrial Estate, Anna Nagar. Krishnagiri:
# Krishnagiri, Hosur, Gangaleri, Hosur SIPCOT. Coimbatore: city offices, Kurichi SIDCO,
# Saravanampatti. Bengaluru Urban: GPO, Rajajinagar, Yeshwanthpur, Marathahalli, Peenya,
# Whitefield, Bommasandra, Electronic City. Gurugram: city offices, IMT Manesar, Manesar.
# Faridabad: city offices and Ballabgarh. Ahmedabad: GPO, Navrangpura, Satellite, Sanand,
# Naroda, Odhav, Vatva GIDC. Rajkot: city offices, Shapar-Veraval, Gondal.
# Visakhapatnam: city offices, Gajuwaka, the steel plant. Ernakulam: Fort Kochi,
# Ernakulam, Edappally, Kakkanad, Aluva. Medchal-Malkajgiri: Balanagar, Uppal,
# Malkajgiri, Jeedimetla, ECIL, Kukatpally, Medchal. East Singhbhum: Jamshedpur offices
# (not Adityapur's 831013, which is in Seraikela-Kharsawan).
CLUSTERS = (
    Cluster(
        "Pune",
        "Pune",
        "MH",
        "26",
        ("411001", "411005", "411013", "411018", "411019", "411026", "411028", "411038",
         "411057", "411062"),
        18.52,
        73.86,
        (45, 8, 15, 25, 7),
    ),
    Cluster(
        "Chakan", "Pune", "MH", "26", ("410501", "410505", "410506", "412105"),
        18.76, 73.86, (50, 5, 10, 30, 5),
    ),
    Cluster(
        "Aurangabad", "Chhatrapati Sambhajinagar", "MH", "19",
        ("431001", "431003", "431005", "431006", "431136"),
        19.88, 75.34, (50, 10, 15, 20, 5),
    ),
    Cluster(
        "Chennai", "Chennai", "TN", "02",
        ("600001", "600004", "600017", "600020", "600032", "600040"),
        13.08, 80.27, (35, 10, 15, 32, 8),
    ),
    Cluster(
        "Hosur", "Krishnagiri", "TN", "12", ("635001", "635109", "635122", "635126"),
        12.74, 77.83, (50, 5, 10, 30, 5),
    ),
    Cluster(
        "Coimbatore", "Coimbatore", "TN", "06",
        ("641001", "641002", "641004", "641006", "641012", "641021", "641035"),
        11.02, 76.96, (45, 8, 12, 30, 5),
    ),
    Cluster(
        "Bengaluru", "Bengaluru Urban", "KA", "03",
        ("560001", "560010", "560022", "560037", "560058", "560066", "560099", "560100"),
        12.97, 77.59, (30, 5, 25, 20, 20),
    ),
    Cluster(
        "Manesar", "Gurugram", "HR", "05", ("122001", "122002", "122018", "122050", "122051"),
        28.36, 76.94, (45, 5, 15, 30, 5),
    ),
    Cluster(
        "Faridabad", "Faridabad", "HR", "04",
        ("121001", "121002", "121003", "121004", "121005", "121006"),
        28.41, 77.32, (50, 10, 15, 20, 5),
    ),
    Cluster(
        "Ahmedabad", "Ahmedabad", "GJ", "07",
        ("380001", "380009", "380015", "382110", "382330", "382415", "382445"),
        23.02, 72.57, (35, 30, 12, 18, 5),
    ),
    Cluster(
        "Rajkot", "Rajkot", "GJ", "21",
        ("360001", "360002", "360004", "360005", "360024", "360311"),
        22.30, 70.80, (55, 10, 10, 20, 5),
    ),
    Cluster(
        "Visakhapatnam", "Visakhapatnam", "AP", "09",
        ("530001", "530002", "530003", "530012", "530016", "530026", "530031"),
        17.69, 83.22, (20, 50, 15, 5, 10),
    ),
    Cluster(
        "Kochi", "Ernakulam", "KL", "07",
        ("682001", "682011", "682016", "682024", "682030", "683101"),
        9.93, 76.27, (20, 45, 15, 5, 15),
    ),
    Cluster(
        "Hyderabad", "Medchal-Malkajgiri", "TS", "08",
        ("500037", "500039", "500047", "500055", "500062", "500072", "501401"),
        17.39, 78.49, (30, 15, 20, 15, 20),
    ),
    Cluster(
        "Jamshedpur", "East Singhbhum", "JH", "04",
        ("831001", "831002", "831003", "831004", "831005", "831011", "831012"),
        22.80, 86.18, (50, 20, 15, 10, 5),
    ),
)  # fmt: skip

_FIRST = ("Sri Ganesh", "Shakti", "Deccan", "Kaveri", "Narmada", "Sahyadri", "Vijay", "Lakshmi",
          "Om Sai", "Bharat", "Annapurna", "Precision", "Supreme", "Trident", "Nilgiri", "Garuda",
          "Vaigai", "Indus", "Konark", "Aravalli")  # fmt: skip
_LAYER_WORDS = {
    Layer.COMPONENTS: ("Magnetics", "Engineering", "Tooling", "Precision Works", "Coatings",
                       "Powder Technologies"),
    Layer.CHEMICALS: ("Chemicals", "Rare Earths", "Alloys", "Metallurgicals", "Reagents"),
    Layer.TESTING: ("Test Labs", "Calibration Services", "Metrology", "Furnace Services"),
    Layer.DOWNSTREAM: ("Motors", "Drives", "E-Mobility", "Automation", "Power Systems"),
    Layer.RND: ("Innovations", "Research", "Technologies", "Design Labs"),
}  # fmt: skip
# A name's suffix and the legal form it goes with (a company's name ends with "Limited",
# an LLP's with "LLP"; "Industries" and "Enterprises" are firms' and proprietors' names).
_SUFFIX = (
    ("Private Limited", LegalForm.PRIVATE_LIMITED),
    ("Pvt Ltd", LegalForm.PRIVATE_LIMITED),
    ("LLP", LegalForm.LLP),
    ("Industries", LegalForm.PARTNERSHIP),
    ("Enterprises", LegalForm.PROPRIETORSHIP),
)
_LAYERS = list(Layer)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _pan(number: int, rng: random.Random, *, legal_form: str, name: str) -> str:
    """A PAN unique to ``number``, its 4th character the legal form's holder status, its
    5th the name's initial (a proprietor's: the initial of a surname we make up)."""
    letters = ""
    rest = number // 10_000
    for _ in range(3):
        letters += _ALPHABET[rest % 26]
        rest //= 26
    holder = LEGAL_FORM_PAN_HOLDERS[legal_form][0]
    initial = rng.choice(_ALPHABET) if holder == "P" else name[0]
    return f"{letters}{holder}{initial}{number % 10_000:04d}{rng.choice(_ALPHABET)}"


def _figures(size: str, year: int, rng: random.Random) -> tuple[Decimal | None, Decimal | None]:
    """Investment and turnover that classify as ``size`` in ``year`` (for two suppliers in
    three; the others declare the size alone)."""
    if rng.random() < 1 / 3:
        return None, None
    ceilings = limits_for(year).ceilings
    index = [s for s, _, _ in ceilings].index(size)
    low = ceilings[index - 1][1] if index else Decimal(0)
    _, investment_ceiling, turnover_ceiling = ceilings[index]
    investment = low + (investment_ceiling - low) * Decimal(rng.randint(1, 100)) / 100
    turnover = turnover_ceiling * Decimal(rng.randint(1, 100)) / 100
    return investment.quantize(Decimal(1)), turnover.quantize(Decimal(1))


def _gstin(state_gst: str, pan: str) -> str:
    body = f"{state_gst}{pan}1Z"
    return body + gstin_check_character(body)


@transaction.atomic
def seed_demo(
    *,
    suppliers: int,
    seed: int,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create ``suppliers`` demo SMEs; returns how many. Refuses to seed a seed twice."""
    if suppliers > MAX_SUPPLIERS_PER_SEED:
        raise ValueError(f"At most {MAX_SUPPLIERS_PER_SEED} suppliers per seed.")
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    sites = random.Random(f"{seed}-sites")  # noqa: S311
    base = seed * SEED_STRIDE
    first_udyam = f"-{base:07d}"
    if Supplier.objects.filter(udyam_number__endswith=first_udyam).exists():
        raise ValueError(f"Seed {seed} was already used; choose another --seed.")

    capabilities = {
        layer: list(Capability.objects.filter(layer=layer, is_active=True)) for layer in Layer
    }
    if not any(capabilities.values()):
        raise ValueError("Load the taxonomy first: python manage.py load_taxonomy")
    certifications = {c.code: c for c in Certification.objects.all()}
    grades = list(MaterialGrade.objects.values_list("code", flat=True))
    today = timezone.localdate()
    now = timezone.now()

    batches = _batches(
        suppliers=suppliers,
        batch_size=batch_size,
        rng=rng,
        sites=sites,
        base=base,
        capabilities=capabilities,
        certifications=certifications,
        grades=grades,
        today=today,
        now=now,
    )
    created = 0
    if connection.vendor == "postgresql" and suppliers > batch_size and can_produce_apart():
        # The next batch is built and formatted for COPY in a child process while this
        # one writes the last: building is Python's work, writing mostly the
        # database's (20 indexes on suppliers, deferred foreign keys), so on two cores
        # the two overlap. The child never touches the database.
        # The foreign keys are checked as each batch is written, beside the child's
        # work, rather than all at commit (9 s of 60 for 100,000 suppliers).
        with foreign_keys_checked_as_written(model for model, _ in _WRITTEN):
            for count, texts in produced_apart(
                lambda: ((len(b.suppliers), _copy_texts(b)) for b in batches)
            ):
                for (model, computed), text in zip(_WRITTEN, texts, strict=True):
                    if text:
                        copy_in(model, [text], computed=computed)
                created += count
                if progress:
                    progress(created)
        return created
    for batch in batches:
        for (model, computed), objs in zip(_WRITTEN, batch, strict=True):
            bulk_copy(model, objs, computed=computed)
        created += len(batch.suppliers)
        if progress:
            progress(created)
    return created


def _copy_texts(batch: "_Batch") -> list[bytes]:
    return [
        b"".join(copy_text(model, objs)) for (model, _), objs in zip(_WRITTEN, batch, strict=True)
    ]


class _Batch(NamedTuple):
    organizations: list[Organization]
    suppliers: list[Supplier]
    offered: list[SupplierCapability]
    held: list[SupplierCertificate]
    scopes: list[Any]
    registrations: list[SupplierGstin]
    plants: list[SupplierPlant]
    plant_offers: list[Any]


def _batches(
    *,
    suppliers: int,
    batch_size: int,
    rng: random.Random,
    sites: random.Random,
    base: int,
    capabilities: dict[Layer, list[Capability]],
    certifications: dict[str, Certification],
    grades: list[str],
    today: date,
    now: datetime,
) -> Iterator[_Batch]:
    """The demo rows, ``batch_size`` suppliers (and what they hold) at a time, built in
    memory only: nothing here reads or writes the database."""
    this_year = financial_year_of(today)
    created = 0
    while created < suppliers:
        count = min(batch_size, suppliers - created)
        organizations, rows, offered, held, scopes = [], [], [], [], []
        registrations: list[SupplierGstin] = []
        plants: list[SupplierPlant] = []
        plant_offers: list[Any] = []
        for index in range(created, created + count):
            cluster = rng.choice(CLUSTERS)
            layer = rng.choices(_LAYERS, weights=cluster.layer_weights)[0]
            suffix, legal_form = rng.choice(_SUFFIX)
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAYER_WORDS[layer])} {suffix}"
            serial = base + index
            organization = built(Organization, id=uuid.uuid4(), name=name, kind="sme")
            organizations.append(organization)
            state = STATES_BY_CODE[cluster.state]
            pan = _pan(serial, rng, legal_form=legal_form, name=name)
            size = rng.choices(list(EnterpriseSize), weights=(45, 40, 15))[0]
            investment, turnover = _figures(size, this_year, rng)
            has_coordinates = rng.random() < 0.7
            supplier = built(
                Supplier,
                id=uuid.uuid4(),
                owner_id=organization.id,
                claimed_at=now,
                legal_name=name,
                legal_form=legal_form,
                udyam_number=f"UDYAM-{state.udyam_code}-{cluster.udyam_district}-{serial:07d}",
                pan=pan,
                gstin=_gstin(state.gst_code, pan) if rng.random() < 0.75 else None,
                enterprise_size=size,
                classification_year=this_year,
                investment_inr=investment,
                turnover_inr=turnover,
                women_owned=rng.random() < 0.12,
                sc_st_owned=rng.random() < 0.06,
                year_established=rng.randint(1975, today.year - 1),
                employees=rng.randint(4, 480),
                contact_name="Demo Contact",
                contact_email=f"contact{serial}@demo.remag.invalid",
                contact_phone=f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}",
                state=cluster.state,
                district=cluster.district,
                city=cluster.city,
                pin_code=rng.choice(cluster.pin_codes),
                latitude=round(cluster.latitude + rng.uniform(-0.15, 0.15), 5)
                if has_coordinates
                else None,
                longitude=round(cluster.longitude + rng.uniform(-0.15, 0.15), 5)
                if has_coordinates
                else None,
                status=rng.choices(list(SupplierStatus), weights=(18, 80, 2))[0],
                verified_at=now,
            )
            texts = [supplier.legal_name, supplier.city, supplier.district]
            layer_caps = capabilities[layer] or capabilities[Layer.COMPONENTS]
            picked = rng.sample(layer_caps, k=min(len(layer_caps), rng.randint(1, 4)))
            if rng.random() < 0.25:  # some also work in a neighbouring layer
                other = capabilities[rng.choice(_LAYERS)]
                extra = rng.choice(other)
                if extra not in picked:
                    picked.append(extra)
            for capability in picked:
                unit = rng.choice(LAYER_CAPACITY_UNITS[Layer(capability.layer)])
                offered.append(
                    built(
                        SupplierCapability,
                        id=uuid.uuid4(),
                        supplier_id=supplier.id,
                        capability_id=capability.id,
                        capacity_per_month=Decimal(
                            rng.choice((5, 10, 20, 50, 100, 250, 500, 1000, 5000, 20000))
                        ),
                        capacity_unit=unit,
                        minimum_order=Decimal(rng.choice((1, 5, 10, 100))),
                        lead_time_days=rng.choice((7, 10, 14, 21, 30, 45, 60, 90)),
                        grades=rng.sample(grades, k=rng.randint(0, 3))
                        if capability.layer == Layer.COMPONENTS
                        else [],
                        description=f"{capability.name} for magnet makers in {cluster.city}.",
                    )
                )
                texts += [capability.name, " ".join(capability.synonyms)]
            for code, chance in _certificate_chances(layer, picked):
                if rng.random() < chance:
                    certification = certifications[code]
                    expired = rng.random() < 0.15
                    start = today - timedelta(days=rng.randint(30, 900) + (1100 if expired else 0))
                    declared = certification.kind == CertificationKind.DECLARATION
                    certificate = built(
                        SupplierCertificate,
                        id=uuid.uuid4(),
                        supplier_id=supplier.id,
                        certification_id=certification.id,
                        certificate_number=f"{code.upper()}-{serial}",
                        issuing_body="" if declared else _issuing_body(code, rng),
                        valid_from=start,
                        valid_until=None if declared else start + timedelta(days=1095),
                    )
                    held.append(certificate)
                    if certification.scoped:
                        scope = _scope(certification, picked, rng)
                        scopes += [
                            built(Scope, suppliercertificate_id=certificate.id, capability_id=c.id)
                            for c in scope
                        ]
            supplier.search_text = " ".join(t for t in texts if t)
            rows.append(supplier)
            if supplier.gstin:
                registrations.append(
                    built(
                        SupplierGstin,
                        supplier_id=supplier.id,
                        gstin=supplier.gstin,
                        state=cluster.state,
                        label=cluster.city,
                        position=0,
                    )
                )
                if sites.random() < SECOND_STATE_SHARE:
                    _second_state(
                        supplier, cluster, picked, sites, registrations, plants, plant_offers
                    )
        yield _Batch(
            organizations, rows, offered, held, scopes, registrations, plants, plant_offers
        )
        created += count


def _second_state(
    supplier: Supplier,
    cluster: Cluster,
    capabilities: list[Capability],
    rng: random.Random,
    registrations: list[SupplierGstin],
    plants: list[SupplierPlant],
    plant_offers: list[Any],
) -> None:
    """A GSTIN in a second state (on the same PAN) and two plants: at home, offering
    everything, and in a cluster of that state, offering some of the capabilities."""
    other = rng.choice([c for c in CLUSTERS if c.state != cluster.state])
    state = STATES_BY_CODE[other.state]
    registrations.append(
        built(
            SupplierGstin,
            supplier_id=supplier.id,
            gstin=_gstin(state.gst_code, supplier.pan or ""),
            state=other.state,
            label=f"{other.city} unit",
            position=1,
        )
    )
    home_lat = supplier.latitude if supplier.latitude is not None else cluster.latitude
    home_lon = supplier.longitude if supplier.longitude is not None else cluster.longitude
    plants.append(
        built(
            SupplierPlant,
            id=uuid.uuid4(),
            supplier_id=supplier.id,
            name=cluster.city,
            city=cluster.city,
            district=cluster.district,
            state=cluster.state,
            pin_code=supplier.pin_code,
            latitude=home_lat,
            longitude=home_lon,
        )
    )
    away = built(
        SupplierPlant,
        id=uuid.uuid4(),
        supplier_id=supplier.id,
        name=other.city,
        city=other.city,
        district=other.district,
        state=other.state,
        pin_code=rng.choice(other.pin_codes),
        latitude=round(other.latitude + rng.uniform(-0.15, 0.15), 5),
        longitude=round(other.longitude + rng.uniform(-0.15, 0.15), 5),
    )
    plants.append(away)
    through = SupplierPlant.capabilities.through
    for capability in rng.sample(capabilities, k=max(1, len(capabilities) // 2)):
        plant_offers.append(built(through, supplierplant_id=away.id, capability_id=capability.id))


Scope = SupplierCertificate.scope.through
# The tables a batch is written to, in _Batch's order, with their computed columns
# (remag.db.bulk_copy): the search vector from the supplier's text.
_WRITTEN: tuple[tuple[type[Model], dict[str, str] | None], ...] = (
    (Organization, None),
    (Supplier, SEARCH_VECTOR_SQL),
    (SupplierCapability, None),
    (SupplierCertificate, None),
    (Scope, None),
    (SupplierGstin, None),
    (SupplierPlant, None),
    (SupplierPlant.capabilities.through, None),
)
# Labs accredited for chemical testing only: their ISO/IEC 17025 scope is this one.
_CHEMICAL_TESTING = "chemical-analysis"
_CERTIFICATION_BODIES = ("TUV India", "BSI", "Bureau Veritas", "DNV", "Intertek", "TQ Cert")
_ISSUING_BODIES = {
    "iso-iec-17025": ("NABL",),
    "iso-iec-17020": ("NABCB",),
    "nadcap": ("PRI",),
    "bis": ("BIS",),
    "zed-bronze": ("QCI",),
    "zed-silver": ("QCI",),
    "zed-gold": ("QCI",),
    "aea-prescribed-substances-licence": ("Department of Atomic Energy",),
}
# Special processes Nadcap accredits (coatings, chemical processing, heat treating).
_NADCAP_PROCESSES = frozenset({"nicuni-coating", "epoxy-coating", "zinc-coating", "sintering"})
_OXIDES = frozenset({"rare-earth-oxides", "rare-earth-carbonates"})


def _issuing_body(code: str, rng: random.Random) -> str:
    return rng.choice(_ISSUING_BODIES.get(code, _CERTIFICATION_BODIES))


def _scope(
    certification: Certification, picked: list[Capability], rng: random.Random
) -> list[Capability]:
    """An accreditation's scope: the capabilities it covers among those offered (a lab
    offering chemical analysis is, one time in three, accredited for that alone)."""
    if certification.code == "nadcap":
        return [c for c in picked if c.code in _NADCAP_PROCESSES]
    covered = [c for c in picked if c.layer == Layer.TESTING]
    chemical = [c for c in covered if c.code == _CHEMICAL_TESTING]
    if chemical and len(covered) > 1 and rng.random() < 1 / 3:
        return chemical
    return covered


def _certificate_chances(layer: str, picked: list[Capability]) -> list[tuple[str, float]]:
    """Which certifications a demo supplier of ``layer`` may hold. ZED is for
    manufacturing MSMEs only (never a testing laboratory or an R&D firm); NABL
    accreditation is ISO/IEC 17025 with body NABL, one certificate; RoHS and REACH are
    self-declarations; an oxide or carbonate supplier mostly holds the DAE licence."""
    chances = [("iso-9001", 0.6), ("iso-14001", 0.2), ("iso-45001", 0.12), ("iso-50001", 0.04)]
    if layer in MANUFACTURING_LAYERS:
        chances += [("zed-bronze", 0.15), ("zed-silver", 0.06), ("zed-gold", 0.02)]
    if layer in (Layer.COMPONENTS, Layer.DOWNSTREAM):
        chances += [("iatf-16949", 0.25), ("as9100", 0.04), ("rohs", 0.3), ("reach", 0.2)]
    if layer == Layer.COMPONENTS and any(c.code in _NADCAP_PROCESSES for c in picked):
        chances += [("nadcap", 0.05)]
    if layer == Layer.TESTING and any(c.layer == Layer.TESTING for c in picked):
        chances += [("iso-iec-17025", 0.7), ("iso-iec-17020", 0.1)]
    if layer == Layer.CHEMICALS:
        chances += [("bis", 0.2), ("reach", 0.3)]
        if any(c.code in _OXIDES for c in picked):
            chances += [("aea-prescribed-substances-licence", 0.9)]
    return chances
