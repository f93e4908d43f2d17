"""The constraints of 0006's columns, in a transaction of their own (see 0006): the
GSTIN embeds the PAN, the legal form is one of the choices."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0007_supplier_pan_from_gstin")]

    operations = [
        migrations.AddConstraint(
            model_name="supplier",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "legal_form__in",
                        [
                            "proprietorship",
                            "huf",
                            "partnership",
                            "llp",
                            "private_limited",
                            "public_limited",
                            "cooperative",
                            "society",
                            "trust",
                            "self_help_group",
                            "other",
                            "",
                        ],
                    )
                ),
                name="supplier_legal_form_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="supplier",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("gstin__isnull", True),
                    ("pan__isnull", True),
                    django.db.models.lookups.Exact(
                        django.db.models.functions.text.Substr("gstin", 3, 10), models.F("pan")
                    ),
                    _connector="OR",
                ),
                name="supplier_gstin_embeds_pan",
            ),
        ),
    ]
