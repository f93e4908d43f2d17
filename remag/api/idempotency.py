"""``Idempotency-Key`` for create endpoints.

The same key with the same request replays the first response (status, body and
``Location``) without creating twice, marked ``Idempotent-Replayed: true``. The same
key with a different method, path or body is refused with ``422``
(``idempotency-key-reused``). Keys are remembered for ``REMAG_IDEMPOTENCY_KEY_TTL``
(24 hours by default) and are scoped to the caller.

Concurrency: the record is inserted before the create runs and in the same transaction,
so a second request with the same key waits on the unique index until the first
commits, then replays it (PostgreSQL), or is told the first is still in progress.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from remag.api.models import IdempotencyRecord
from remag.api.problems import IdempotencyKeyInProgress, IdempotencyKeyReused

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
_REMEMBERED_HEADERS = ("Location",)


def idempotent_response(
    request: Request, perform: Callable[[], Response], *, redact: Iterable[str] = ()
) -> Response:
    """Run ``perform`` once per (caller, Idempotency-Key); replay its response after that.

    ``redact`` names top-level response fields never stored (secrets shown once, such
    as a new API key): a replay returns them as ``null``.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return perform()
    _validate_key(key)
    caller = caller_scope(request)
    if caller is None:
        # Anonymous calls have no stable scope to remember keys under.
        return perform()

    fingerprint = request_fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(caller=caller, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    caller=caller,
                    key=key,
                    method=request.method,
                    path=request.path[:2000],
                    request_fingerprint=fingerprint,
                    expires_at=now + settings.REMAG_IDEMPOTENCY_KEY_TTL,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(caller=caller, key=key)
            return _replay(existing, request, fingerprint)

        response = perform()
        if 200 <= response.status_code < 300:
            record.response_status = response.status_code
            record.response_body = _jsonable(response.data, redact=set(redact))
            record.response_headers = {
                name: response[name] for name in _REMEMBERED_HEADERS if response.has_header(name)
            }
            record.save(update_fields=["response_status", "response_body", "response_headers"])
        else:
            record.delete()
        return response


def _replay(record: IdempotencyRecord, request: Request, fingerprint: str) -> Response:
    if (
        record.method != request.method
        or record.path != request.path[:2000]
        or record.request_fingerprint != fingerprint
    ):
        raise IdempotencyKeyReused(
            extra={"first_used_at": record.created_at.isoformat(), "first_path": record.path}
        )
    if record.response_status is None:
        raise IdempotencyKeyInProgress()
    headers = {REPLAYED_HEADER: "true", **record.response_headers}
    return Response(record.response_body, status=record.response_status, headers=headers)


def _validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not all(32 < ord(c) < 127 for c in key):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    f"Must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
                    "(a UUID is a good choice)."
                ]
            }
        )


def caller_scope(request: Request) -> str | None:
    from remag.accounts.authentication import APIKeyPrincipal

    user = request.user
    if isinstance(user, APIKeyPrincipal):
        return f"api_key:{user.api_key.public_id}"
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_fingerprint(request: Request) -> str:
    """A digest of what the request asks for: method, path and the parsed body.

    The body is compared as data (key order and whitespace do not matter); uploaded
    files are compared by the digest of their content.
    """
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(json.dumps(_canonical(request.data), sort_keys=True, cls=JSONEncoder).encode())
    return digest.hexdigest()


def _canonical(data: Any) -> Any:
    if hasattr(data, "lists") and callable(data.lists):  # QueryDict / MultiValueDict
        return {k: [_canonical(v) for v in values] for k, values in data.lists()}
    if isinstance(data, dict):
        return {str(k): _canonical(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_canonical(v) for v in data]
    if isinstance(data, UploadedFile):
        file_digest = hashlib.sha256()
        for chunk in data.chunks():
            file_digest.update(chunk)
        data.seek(0)
        return {"file_sha256": file_digest.hexdigest(), "name": data.name}
    return data


def _jsonable(data: Any, *, redact: set[str]) -> Any:
    value = json.loads(json.dumps(data, cls=JSONEncoder))
    if redact and isinstance(value, dict):
        for name in redact:
            if name in value:
                value[name] = None
    return value


class IdempotentCreateMixin:
    """Adds ``Idempotency-Key`` support to a DRF ``create``.

    ``idempotency_redact_fields`` lists response fields that must never be stored.
    """

    idempotency_redact_fields: tuple[str, ...] = ()
    # The POST actions that honour the header (the OpenAPI schema declares it on them).
    idempotent_actions: tuple[str, ...] = ("create",)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_response(
            request,
            lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs),  # type: ignore[misc]
            redact=self.idempotency_redact_fields,
        )


def idempotency_keys_purge() -> int:
    """Delete remembered keys past their expiry; returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
