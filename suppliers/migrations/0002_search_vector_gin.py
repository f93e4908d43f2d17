"""GIN index for full-text search on PostgreSQL. SQLite has no GIN; there the
search falls back to a plain substring match over ``search_text``."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS supplier_search_vector_gin "
            "ON suppliers_supplier USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS supplier_search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
