"""Model base classes shared by every app."""

import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from django.db import connection, models


class BaseModel(models.Model):
    """A row with a random UUID as its public id and creation/update stamps.

    Public ids are UUIDs so that URLs reveal neither counts nor order.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def bulk_copy(
    model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = 2000
) -> None:
    """Insert new model instances, as ``bulk_create`` does, through PostgreSQL's ``COPY``
    (``bulk_create`` elsewhere): for seeding demo and benchmark data, where compiling
    ``INSERT`` statements of hundreds of thousands of rows cost more than building them.

    Every concrete field is written from the instance's attribute: defaults are already
    set by the model's constructor, ``auto_now`` and ``auto_now_add`` stamps are taken as
    ``save()`` takes them, JSON fields are sent as JSON, auto-incremented keys are left to
    the database (and not set on the instances). No signals are sent and no
    ``save()`` runs, exactly as with ``bulk_create``.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return
    from psycopg.types.json import Jsonb

    # An auto-incremented key is the database's to give, as with bulk_create.
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    getters: list[Callable[[models.Model], Any]] = []
    for field in fields:
        if isinstance(field, models.JSONField):
            getters.append(lambda obj, name=field.attname: Jsonb(getattr(obj, name)))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            getters.append(lambda obj, field=field: field.pre_save(obj, add=True))
        else:
            getters.append(attrgetter(field.attname))
    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(model._meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(field.column) for field in fields)}) FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for obj in objs:
            copy.write_row([get(obj) for get in getters])
