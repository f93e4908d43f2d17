"""Every supplier with a GSTIN gets the PAN the GSTIN embeds (characters 3 to 12).

One enterprise is one PAN, so where several stored suppliers carry GSTINs of one PAN (an
enterprise registered once per state, which remag allowed), the oldest gets the PAN and
the others keep none and are marked ``possible_duplicate_of`` it, for an operator:
nothing is lost.
"""

from django.db import migrations


def pan_from_gstin(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    Supplier = apps.get_model("suppliers", "Supplier")
    holder_of: dict[str, object] = {}
    rows = (
        Supplier.objects.filter(gstin__isnull=False, pan__isnull=True)
        .order_by("created_at", "id")
        .only("id", "gstin", "possible_duplicate_of_id")
    )
    for supplier in rows.iterator(chunk_size=1000):
        pan = supplier.gstin[2:12]
        holder = (
            holder_of.get(pan)
            or Supplier.objects.filter(pan=pan).values_list("id", flat=True).first()
        )
        if holder is None:
            supplier.pan = pan
            supplier.save(update_fields=["pan"])
            holder_of[pan] = supplier.id
        else:
            holder_of[pan] = holder
            if supplier.possible_duplicate_of_id is None:
                supplier.possible_duplicate_of_id = holder
                supplier.save(update_fields=["possible_duplicate_of"])


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0006_supplier_pan_legal_form")]

    operations = [
        # Backwards does nothing: the PANs came from the GSTINs, which stay.
        migrations.RunPython(pan_from_gstin, migrations.RunPython.noop, elidable=False),
    ]
