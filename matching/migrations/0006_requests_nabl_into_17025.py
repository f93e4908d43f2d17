"""Requests that required or preferred ``nabl`` now require or prefer ``iso-iec-17025``
(NABL accreditation is ISO/IEC 17025 accreditation; suppliers' migration 0011 merged the
certificates). A certification stays listed in one place: required wins over preferred.
Stored near misses on ``certification:nabl`` are renamed likewise; past matches'
explanations are left as they were written.

Backwards does nothing: the requests keep asking for ISO/IEC 17025.
"""

from django.db import migrations

NABL, LAB = "nabl", "iso-iec-17025"


def requests_nabl_into_17025(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    Certification = apps.get_model("suppliers", "Certification")
    ProcurementRequest = apps.get_model("matching", "ProcurementRequest")
    NearMiss = apps.get_model("matching", "NearMiss")
    nabl = Certification.objects.filter(code=NABL).first()
    lab = Certification.objects.filter(code=LAB).first()
    if nabl is None or lab is None:
        return
    affected = ProcurementRequest.objects.filter(
        id__in=ProcurementRequest.required_certifications.through.objects.filter(
            certification_id=nabl.id
        ).values("procurementrequest_id")
    ) | ProcurementRequest.objects.filter(
        id__in=ProcurementRequest.preferred_certifications.through.objects.filter(
            certification_id=nabl.id
        ).values("procurementrequest_id")
    )
    for request in affected.distinct():
        required = set(request.required_certifications.values_list("id", flat=True))
        preferred = set(request.preferred_certifications.values_list("id", flat=True))
        if nabl.id in required:
            request.required_certifications.remove(nabl)
            request.required_certifications.add(lab)
            request.preferred_certifications.remove(lab)
        if nabl.id in preferred:
            request.preferred_certifications.remove(nabl)
            if nabl.id not in required and lab.id not in required:
                request.preferred_certifications.add(lab)
    # A supplier near-missing one request on both codes cannot exist (one constraint
    # each), so renaming cannot collide with the unique (request, supplier) rows.
    NearMiss.objects.filter(constraint=f"certification:{NABL}").update(
        constraint=f"certification:{LAB}"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0005_request_grades_required"),
        ("suppliers", "0015_certifications_nabl_into_17025"),
    ]

    operations = [
        migrations.RunPython(requests_nabl_into_17025, migrations.RunPython.noop, elidable=False)
    ]
