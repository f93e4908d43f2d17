"""Every supplier's GSTIN becomes its first (primary) row in ``SupplierGstin``, with the
state its GST state code names. ``Supplier.gstin`` stays, as the primary GSTIN's mirror
(the API's ``gstin``), so nothing is lost and the reverse migration only drops the rows.

The state table is copied here rather than imported, so later edits of
``suppliers.states`` cannot change what this migration did.
"""

from django.db import migrations

# suppliers.states.GST_CODE_STATES as of this migration.
GST_CODE_STATES = {
    "01": "JK", "02": "HP", "03": "PB", "04": "CH", "05": "UK", "06": "HR", "07": "DL",
    "08": "RJ", "09": "UP", "10": "BR", "11": "SK", "12": "AR", "13": "NL", "14": "MN",
    "15": "MZ", "16": "TR", "17": "ML", "18": "AS", "19": "WB", "20": "JH", "21": "OD",
    "22": "CG", "23": "MP", "24": "GJ", "25": "DH", "26": "DH", "27": "MH", "28": "AP",
    "29": "KA", "30": "GA", "31": "LD", "32": "KL", "33": "TN", "34": "PY", "35": "AN",
    "36": "TS", "37": "AP", "38": "LA", "97": "",
}  # fmt: skip


def gstins_from_gstin(apps, schema_editor):  # noqa: ARG001 (the RunPython signature)
    Supplier = apps.get_model("suppliers", "Supplier")
    SupplierGstin = apps.get_model("suppliers", "SupplierGstin")
    rows = (
        Supplier.objects.filter(gstin__isnull=False)
        .exclude(gstin="")
        .exclude(gstins__isnull=False)
        .order_by("id")
        .values_list("id", "gstin")
    )
    batch = []
    for supplier_id, gstin in rows.iterator(chunk_size=2000):
        batch.append(
            SupplierGstin(
                supplier_id=supplier_id,
                gstin=gstin,
                state=GST_CODE_STATES.get(gstin[:2], ""),
                position=0,
            )
        )
        if len(batch) >= 2000:
            SupplierGstin.objects.bulk_create(batch)
            batch = []
    SupplierGstin.objects.bulk_create(batch)


def drop_gstin_rows(apps, schema_editor):  # noqa: ARG001
    # Supplier.gstin still holds each primary; the other GSTINs have nowhere to go back to.
    apps.get_model("suppliers", "SupplierGstin").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("suppliers", "0010_supplier_gstins_plants"),
    ]

    operations = [
        migrations.RunPython(gstins_from_gstin, drop_gstin_rows),
    ]
