"""A match's factors and reasons as PostgreSQL's ``json`` (the text as written, checked to
be JSON) instead of ``jsonb``: a run writes them in bulk and every reader takes them whole,
and converting each to ``jsonb`` cost a first run's ``COPY`` about a third of its time
(``remag.db.PlainJSONField``). Every stored document is kept: ``jsonb::json`` is its text.

Both columns change in one ``ALTER TABLE`` (one rewrite of the table and its indexes, not
two). Elsewhere than PostgreSQL both fields already are text: only the state changes."""

from django.db import migrations

import remag.db

_TO_JSON = (
    "ALTER TABLE matching_match"
    " ALTER COLUMN factors TYPE json USING factors::json,"
    " ALTER COLUMN reasons TYPE json USING reasons::json"
)
_TO_JSONB = (
    "ALTER TABLE matching_match"
    " ALTER COLUMN factors TYPE jsonb USING factors::jsonb,"
    " ALTER COLUMN reasons TYPE jsonb USING reasons::jsonb"
)


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0006_requests_nabl_into_17025"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="match",
                    name="factors",
                    field=remag.db.PlainJSONField(default=list),
                ),
                migrations.AlterField(
                    model_name="match",
                    name="reasons",
                    field=remag.db.PlainJSONField(default=list),
                ),
            ],
            database_operations=[
                migrations.RunPython(_on_postgresql(_TO_JSON), _on_postgresql(_TO_JSONB)),
            ],
        ),
    ]
