from django.db import models


class IdempotencyRecord(models.Model):
    """The remembered outcome of a create sent with an ``Idempotency-Key`` header.

    Keys are scoped to the caller (a user or an API key), so two callers can never
    collide. The row is written in the same transaction as the create it guards: either
    both exist or neither does. Only successful (2xx) outcomes are remembered; a failed
    request may be retried with the same key.
    """

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("caller", "key"), name="idempotency_unique_caller_key"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
