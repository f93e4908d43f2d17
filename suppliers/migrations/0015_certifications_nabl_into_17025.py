"""Certifications get their kind, edition and scope flag; NABL merges into ISO/IEC 17025.

1. Re-digest. ``suppliers.taxonomy`` digests a certification over ``name``,
   ``description``, ``category`` and now ``kind``, ``edition``, ``scoped``. A row untouched
   by operators (its old digest still matches) gets this release's kind, edition and scope
   flag and a digest over the new fields, so ``load_taxonomy`` keeps treating it as
   untouched and brings in the new names and descriptions. A row an operator edited keeps
   its (mismatching) digest, so the load still leaves it alone; it gets the kind and scope
   flag anyway, which are facts of the scheme, not wording.
2. NABL accreditation is ISO/IEC 17025 accreditation by NABL. Every ``nabl`` certificate
   becomes an ``iso-iec-17025`` certificate with issuing body NABL. Where a supplier also
   held an ``iso-iec-17025`` certificate, the two are one accreditation recorded twice:
   they are paired (same certificate number first; else the supplier's one remaining
   ``nabl`` with its one remaining ``iso-iec-17025``) and merged into the one with the
   later ``valid_until`` (a tie keeps the ``iso-iec-17025`` row), which keeps its number
   and validity, takes issuing body NABL and the union of both scopes; the other row is
   then removed and the merge is printed (supplier, kept and absorbed numbers and
   validity). A ``nabl`` certificate that pairs with nothing is re-pointed with issuing
   body NABL; an ``iso-iec-17025`` one that pairs with nothing is left as it is.
3. The ``nabl`` code is retired (``is_active`` false), kept so old references resolve.
   Requests are re-pointed by ``matching``'s migration that follows this one.

Backwards does nothing: a merge cannot be told apart afterwards.
"""

import hashlib
import json

from django.db import migrations

NABL, LAB = "nabl", "iso-iec-17025"
OLD_FIELDS = ("name", "description", "category")
NEW_FIELDS = ("name", "description", "category", "kind", "edition", "scoped")
# This release's kind, edition and scope flag (suppliers/data/taxonomy.json).
SHIPPED: dict[str, tuple[str, str, bool]] = {
    "iso-9001": ("certification", "ISO 9001:2015", False),
    "iatf-16949": ("certification", "IATF 16949:2016", False),
    "as9100": ("certification", "AS9100D", False),
    "iso-14001": ("certification", "ISO 14001:2015", False),
    "iso-45001": ("certification", "ISO 45001:2018", False),
    "iso-iec-17025": ("accreditation", "ISO/IEC 17025:2017", True),
    "nabl": ("accreditation", "ISO/IEC 17025:2017", True),
    "bis": ("certification", "", False),
    "zed-bronze": ("certification", "ZED 2022", False),
    "zed-silver": ("certification", "ZED 2022", False),
    "zed-gold": ("certification", "ZED 2022", False),
}
LAB_ROW = {
    "name": "ISO/IEC 17025 accreditation",
    "description": "Accreditation of a testing or calibration laboratory's competence for "
    "the tests and calibrations in its scope, by NABL in India or another ILAC MRA "
    "signatory (the certificate names the body).",
    "category": "laboratory",
    "kind": "accreditation",
    "edition": "ISO/IEC 17025:2017",
    "scoped": True,
}


def digest(values: dict) -> str:
    """``suppliers.taxonomy._digest``, frozen here as migrations must be."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def redigest(Certification) -> None:
    for row in Certification.objects.all():
        untouched = digest({f: getattr(row, f) for f in OLD_FIELDS}) == row.shipped_hash
        if row.code in SHIPPED:
            row.kind, row.edition, row.scoped = SHIPPED[row.code]
        if untouched:
            row.shipped_hash = digest({f: getattr(row, f) for f in NEW_FIELDS})
        row.save(update_fields=["kind", "edition", "scoped", "shipped_hash"])


def _end(certificate):
    return (certificate.valid_until is None, certificate.valid_until or certificate.valid_from)


def _pairs(nabl: list, lab: list) -> tuple[list, list]:
    """(nabl, 17025) pairs and the certificates left unpaired."""
    pairs, nabl, lab = [], list(nabl), list(lab)
    for a in list(nabl):
        number = a.certificate_number.strip().lower()
        b = next((b for b in lab if b.certificate_number.strip().lower() == number), None)
        if b is not None:
            pairs.append((a, b))
            nabl.remove(a)
            lab.remove(b)
    if len(nabl) == 1 and len(lab) == 1:
        pairs.append((nabl.pop(), lab.pop()))
    return pairs, nabl


def merge_nabl_into_17025(apps) -> list[str]:
    """Steps 2 and 3 of the module's docstring; returns one line per merge."""
    Certification = apps.get_model("suppliers", "Certification")
    SupplierCertificate = apps.get_model("suppliers", "SupplierCertificate")
    nabl = Certification.objects.filter(code=NABL).first()
    if nabl is None:
        return []
    lab = Certification.objects.filter(code=LAB).first()
    if lab is None:
        lab = Certification.objects.create(code=LAB, shipped_hash=digest(LAB_ROW), **LAB_ROW)
    merged: list[str] = []
    holders = (
        SupplierCertificate.objects.filter(certification=nabl)
        .values_list("supplier_id", flat=True)
        .distinct()
        .order_by("supplier_id")
    )
    for supplier_id in list(holders):
        mine = list(
            SupplierCertificate.objects.filter(supplier_id=supplier_id).order_by("valid_from", "id")
        )
        pairs, alone = _pairs(
            [c for c in mine if c.certification_id == nabl.id],
            [c for c in mine if c.certification_id == lab.id],
        )
        for a, b in pairs:
            keep, other = (a, b) if _end(a) > _end(b) else (b, a)
            keep.certification_id = lab.id
            keep.issuing_body = "NABL"
            keep.save(update_fields=["certification", "issuing_body"])
            keep.scope.add(*other.scope.all())
            merged.append(
                f"supplier {supplier_id}: kept {keep.certificate_number} "
                f"({keep.valid_from}..{keep.valid_until}), absorbed {other.certificate_number} "
                f"({other.valid_from}..{other.valid_until}), issuing body NABL"
            )
            other.delete()
        for certificate in alone:
            certificate.certification_id = lab.id
            certificate.issuing_body = "NABL"  # what the code nabl meant
            certificate.save(update_fields=["certification", "issuing_body"])
    nabl.is_active = False
    nabl.save(update_fields=["is_active"])
    return merged


def forwards(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    redigest(apps.get_model("suppliers", "Certification"))
    merged = merge_nabl_into_17025(apps)
    if merged:
        print(f"\n  NABL merged into ISO/IEC 17025 ({len(merged)}):")  # noqa: T201
        for line in merged[:PRINTED]:
            print(f"    {line}")  # noqa: T201
        if len(merged) > PRINTED:
            print(f"    ... and {len(merged) - PRINTED} more")  # noqa: T201


PRINTED = 20  # merges listed by name; a large registry's are counted, not all printed


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0014_certification_kind_edition_scope")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
