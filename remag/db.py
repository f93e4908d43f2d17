"""Model base classes shared by every app."""

import uuid

from django.db import models


class BaseModel(models.Model):
    """A row with a random UUID as its public id and creation/update stamps.

    Public ids are UUIDs so that URLs reveal neither counts nor order.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
