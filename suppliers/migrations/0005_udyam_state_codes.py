"""Udyam numbers carry the Udyam portal's state codes: Karnataka's read UDYAM-KR-, never
UDYAM-KA- (which remag required until now), and the pre-2023 ISO codes CT, OR, TG and UT
appear in no real number (docs/registry.md, *Identifiers*).

Every stored number with one of those codes is rewritten with the real code, keeping its
district and serial. Nothing is lost: a number whose corrected form is already
registered (possible only for CT, OR, TG, UT, which remag accepted beside the real codes)
is left as it is and marked ``possible_duplicate_of`` the other, for an operator.
"""

from django.db import migrations

# suppliers.states.UDYAM_CODE_CORRECTIONS, frozen as of this migration.
CORRECTIONS = {"KA": "KR", "CT": "CG", "OR": "OD", "TG": "TS", "UT": "UK"}


def correct_udyam_codes(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    Supplier = apps.get_model("suppliers", "Supplier")
    for wrong, right in CORRECTIONS.items():
        rows = Supplier.objects.filter(udyam_number__startswith=f"UDYAM-{wrong}-").order_by("id")
        for supplier in rows.iterator(chunk_size=1000):
            corrected = f"UDYAM-{right}-{supplier.udyam_number[len(f'UDYAM-{wrong}-') :]}"
            other = Supplier.objects.filter(udyam_number=corrected).first()
            if other is None:
                supplier.udyam_number = corrected
                supplier.save(update_fields=["udyam_number"])
            elif supplier.possible_duplicate_of_id is None:
                supplier.possible_duplicate_of = other
                supplier.save(update_fields=["possible_duplicate_of"])


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0004_job_machine")]

    operations = [
        # Backwards leaves the numbers corrected: the real numbers are valid either way.
        migrations.RunPython(correct_udyam_codes, migrations.RunPython.noop, elidable=False),
    ]
