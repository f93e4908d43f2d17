"""Magnet runs: a requirement against 2,000 offers, and an offer against 50,000
requirements (its leads), where the time goes, against the floor of reading the same rows.

It seeds a database of its own once (``remag_bench_magnets`` beside DATABASE_URL, or
BENCH_MAGNETS_DATABASE_URL) with published offers and open requirements of random specs
(sintered NdFeB of every temperature class, four shapes, five coatings, kg and pieces,
plants and delivery points across India, a tenth of the requirements asking for IATF
16949), then runs matching in-process exactly as the Celery task does
(``matching.magnets.runs.magnet_run_execute``), twice each: the first run inserts the
matches, the second rewrites them (a rerun). It prints the candidate, match and near-miss
counts, the seconds spent loading, scoring and writing, the total, and the floor: a bare
``SELECT`` through psycopg of the candidate rows' columns (and their certification rows),
best of three, as ``bench/match_run.py`` does for procurement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remag .venv/bin/python bench/bench_magnets.py
    BENCH_OFFERS=500 BENCH_REQUIREMENTS=10000 .venv/bin/python bench/bench_magnets.py
"""

import math
import os
import random
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse, urlunparse

from _setup import setup_django

OFFERS = int(os.environ.get("BENCH_OFFERS", "2000"))
REQUIREMENTS = int(os.environ.get("BENCH_REQUIREMENTS", "50000"))
GRADES = ["n35", "n42", "n48", "n52", "n42m", "n45m", "n42h", "n48h", "n38sh", "n42sh",
          "n45sh", "n48sh", "n35uh", "n38uh", "n42uh", "n45uh", "n33eh", "n38eh",
          "n35ah"]  # fmt: skip
SHAPES = {
    "block": lambda r: {"length_mm": r.uniform(5, 60), "width_mm": r.uniform(3, 30),
                        "thickness_mm": r.uniform(1, 10)},
    "arc": lambda r: {"outer_radius_mm": (o := r.uniform(15, 70)),
                      "inner_radius_mm": o - r.uniform(2, 8),
                      "angle_deg": r.choice([30, 45, 60]), "length_mm": r.uniform(10, 60)},
    "ring": lambda r: {"outer_diameter_mm": (o := r.uniform(6, 40)), "inner_diameter_mm": o / 2,
                       "thickness_mm": r.uniform(1, 10)},
    "disc": lambda r: {"diameter_mm": r.uniform(2, 30), "thickness_mm": r.uniform(0.8, 8)},
}  # fmt: skip
COATINGS = ["nicuni", "zn", "epoxy", "aluminium", "phosphate"]
MAGNETISATIONS = ["axial", "diametral", "multipole"]
APPLICATIONS = ["traction_motor", "servo", "robotics", "wind_generator", "sensor"]
STATES = [("KA", 12.97, 77.59), ("TN", 13.08, 80.27), ("MH", 18.52, 73.85),
          ("GJ", 23.02, 72.57), ("TS", 17.39, 78.49), ("HR", 28.46, 77.03)]  # fmt: skip


def database_url() -> str:
    explicit = os.environ.get("BENCH_MAGNETS_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/remag")
    return urlunparse(urlparse(base)._replace(path="/remag_bench_magnets"))


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    """An id drawn from the seeded generator: the subject offer (the largest capacity,
    then the smallest id) is the same one in every seeding, so the figures of two machines
    compare (with ``uuid4`` its match count varied from 823 to 13,209)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def seed() -> None:
    from django.db import transaction
    from django.utils import timezone

    from matching.magnets.candidates import piece_mass_for
    from matching.magnets.models import MagnetOffer, MagnetRequirement
    from matching.magnets.scoring import size_extent_mm
    from remag.accounts.models import Organization
    from remag.db import bulk_copy
    from suppliers.grades import parse_grade
    from suppliers.models import Certification

    have_offers = MagnetOffer.objects.filter(status="published").count()
    have_requirements = MagnetRequirement.objects.filter(status="open").count()
    if have_offers >= OFFERS and have_requirements >= REQUIREMENTS:
        return
    started = time.perf_counter()
    rng = random.Random(42)  # noqa: S311 (reproducible test data, not secrets)
    today = timezone.localdate()
    now = timezone.now()
    iatf = Certification.objects.get(code="iatf-16949")
    iso = Certification.objects.get(code="iso-9001")
    makers = [
        Organization.objects.get_or_create(name=f"Bench Maker {i}", kind="manufacturer")[0]
        for i in range(40)
    ]
    buyers = [
        Organization.objects.get_or_create(name=f"Bench Buyer {i}", kind="sme")[0]
        for i in range(400)
    ]
    offers, offer_certs = [], []
    for _ in range(OFFERS - have_offers):
        state, lat, lon = rng.choice(STATES)
        low = rng.uniform(2000, 3200)
        offer = MagnetOffer(
            id=seeded_uuid(rng), owner=rng.choice(makers), title="bench offer",
            material="sintered_ndfeb", grades=rng.sample(GRADES, rng.randint(3, 8)),
            shapes=[{"shape": s, "min_mm": rng.uniform(0.5, 2), "max_mm": rng.uniform(30, 120),
                     "tolerance_mm": rng.choice([0.02, 0.05, 0.1])}
                    for s in rng.sample(list(SHAPES), rng.randint(1, 4))],
            coatings=rng.sample(COATINGS, rng.randint(1, 4)),
            magnetisations=rng.sample(MAGNETISATIONS, rng.randint(1, 3)),
            capacity_per_month=Decimal(rng.choice([500, 2000, 8000, 20000])), capacity_unit="kg",
            min_order_per_month=Decimal(rng.choice([0, 50, 100, 500])),
            lead_time_days=rng.choice([21, 30, 45, 60, 90]), valid_from=today,
            valid_until=today + timedelta(days=rng.choice([180, 365, 730])),
            plant_state=state, plant_latitude=lat + rng.uniform(-1, 1),
            plant_longitude=lon + rng.uniform(-1, 1),
            price_min_inr_per_kg=Decimal(round(low)),
            price_max_inr_per_kg=Decimal(round(low + 600)),
            status="published", published_at=now,
        )  # fmt: skip
        offers.append(offer)
        offer_certs.append(MagnetOffer.certifications.through(magnetoffer=offer, certification=iso))
        if rng.random() < 0.5:
            offer_certs.append(
                MagnetOffer.certifications.through(magnetoffer=offer, certification=iatf)
            )
    requirements, required = [], []
    for _ in range(REQUIREMENTS - have_requirements):
        shape = rng.choice(list(SHAPES))
        dimensions = {k: round(v, 2) for k, v in SHAPES[shape](rng).items()}
        grade = rng.choice(GRADES)
        spec = parse_grade(grade)
        state, lat, lon = rng.choice(STATES)
        pieces = rng.random() < 0.4
        quantity = Decimal(
            rng.choice([5000, 20000, 100000]) if pieces else rng.choice([20, 80, 200, 1000])
        )
        mass = piece_mass_for("sintered_ndfeb", shape, dimensions)
        size_min, size_max = size_extent_mm(shape, dimensions)
        kg = quantity * Decimal(mass) / 1000 if pieces else quantity
        requirement = MagnetRequirement(
            id=seeded_uuid(rng), owner=rng.choice(buyers), title="bench requirement",
            application=rng.choice(APPLICATIONS), material="sintered_ndfeb", grade=grade,
            energy_class=spec.energy_class, temperature_class=spec.temperature_class,
            shape=shape, dimensions=dimensions, tolerance_mm=Decimal(rng.choice(["0.05", "0.1"])),
            coating=rng.choice(COATINGS), magnetisation=rng.choice(MAGNETISATIONS),
            quantity_per_month=quantity, quantity_unit="pieces" if pieces else "kg",
            duration_months=rng.choice([6, 12, 24]), piece_mass_g=round(mass, 4),
            size_min_mm=size_min, size_max_mm=size_max,
            quantity_kg_per_month=kg.quantize(Decimal("0.001")),
            needed_from=today + timedelta(days=rng.randint(20, 120)), delivery_state=state,
            delivery_latitude=lat if rng.random() < 0.7 else None,
            delivery_longitude=lon if rng.random() < 0.7 else None,
            budget_inr_per_kg=Decimal(rng.choice([2600, 3000])) if rng.random() < 0.3 else None,
            pool_opt_in=rng.random() < 0.1, status="open", published_at=now,
        )  # fmt: skip
        if requirement.delivery_latitude is None or requirement.delivery_longitude is None:
            requirement.delivery_latitude = requirement.delivery_longitude = None
        requirements.append(requirement)
        if rng.random() < 0.1:
            required.append(
                MagnetRequirement.required_certifications.through(
                    magnetrequirement=requirement, certification=iatf
                )
            )
    with transaction.atomic():
        bulk_copy(MagnetOffer, offers)
        bulk_copy(MagnetOffer.certifications.through, offer_certs)
        bulk_copy(MagnetRequirement, requirements)
        bulk_copy(MagnetRequirement.required_certifications.through, required)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {len(offers)} offers and {len(requirements)} requirements in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


def floor_seconds(sql: list[str]) -> float:
    import psycopg

    best = math.inf
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for _ in range(3):
            started = time.perf_counter()
            for statement in sql:
                conn.execute(statement).fetchall()
            best = min(best, time.perf_counter() - started)
    return best


OFFERS_FLOOR = [
    "SELECT id::text, owner_id::text, grades, shapes, coatings, magnetisations, "
    "capacity_per_month::float8, capacity_unit, min_order_per_month::float8, lead_time_days, "
    "valid_until, plant_latitude, plant_longitude, price_min_inr_per_kg::float8, "
    "price_max_inr_per_kg::float8 FROM magnets_magnetoffer "
    "WHERE status = 'published' AND material = 'sintered_ndfeb'",
    "SELECT c.magnetoffer_id::text, c.certification_id FROM magnets_magnetoffer_certifications c "
    "JOIN magnets_magnetoffer o ON o.id = c.magnetoffer_id WHERE o.status = 'published'",
]
REQUIREMENTS_FLOOR = [
    "SELECT id::text, grade, shape, dimensions, tolerance_mm::float8, coating, magnetisation, "
    "quantity_per_month::float8, quantity_unit, duration_months, needed_from, "
    "delivery_latitude, delivery_longitude, budget_inr_per_kg::float8 "
    "FROM magnets_magnetrequirement WHERE status = 'open' AND material = 'sintered_ndfeb'",
    "SELECT c.magnetrequirement_id::text, c.certification_id "
    "FROM magnets_magnetrequirement_required_certifications c",
    "SELECT c.magnetrequirement_id::text, c.certification_id "
    "FROM magnets_magnetrequirement_preferred_certifications c",
]


def main() -> None:
    os.environ["BENCH_DATABASE_URL"] = database_url()
    setup_django(suppliers=0)
    seed()
    from django.db.models import Q

    from matching.magnets import runs
    from matching.magnets.models import (
        MagnetMatch,
        MagnetNearMiss,
        MagnetOffer,
        MagnetRequirement,
        MagnetRun,
    )

    subject_requirement = (
        MagnetRequirement.objects.filter(
            status="open", delivery_latitude__isnull=False, grade="n42sh"
        )
        .order_by("id")
        .first()
    )
    subject_offer = (
        MagnetOffer.objects.filter(status="published").order_by("-capacity_per_month", "id").first()
    )
    print(
        f"offers: {MagnetOffer.objects.filter(status='published').count()}, "
        f"requirements: {MagnetRequirement.objects.filter(status='open').count()}"
    )
    print(
        f"{'run':44} {'pass':>6} {'cands':>6} {'matches':>7} {'misses':>6} {'load s':>7} "
        f"{'score s':>7} {'write s':>7} {'total s':>7} {'floor s':>7} {'x floor':>7}"
    )
    # The "first" pass writes every match anew, as a subject's first run does.
    for model in (MagnetMatch, MagnetNearMiss):
        model.objects.filter(Q(requirement=subject_requirement) | Q(offer=subject_offer)).delete()
    cases = (
        ("a requirement against the published offers", {"requirement": subject_requirement,
                                                         "direction": "requirement"}, OFFERS_FLOOR),
        ("an offer against the open requirements", {"offer": subject_offer, "direction": "offer"},
         REQUIREMENTS_FLOOR),
    )  # fmt: skip
    for label, subject, floor_sql in cases:
        floor = floor_seconds(floor_sql)
        for which in ("first", "rerun"):
            run = MagnetRun.objects.create(trigger="manual", **subject)
            runs.magnet_run_execute(run_id=run.id)
            run.refresh_from_db()
            if run.status != "succeeded":
                raise SystemExit(f"{label}: run {run.status}: {run.error}")
            total = run.load_seconds + run.score_seconds + run.write_seconds
            print(
                f"{label:44} {which:>6} {run.candidate_count:>6} {run.matched_count:>7} "
                f"{run.near_miss_count:>6} {run.load_seconds:>7.3f} {run.score_seconds:>7.3f} "
                f"{run.write_seconds:>7.3f} {total:>7.3f} {floor:>7.3f} {total / floor:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
