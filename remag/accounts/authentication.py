"""Token and API-key authentication. Both are hashed at rest (SHA-512 of a 32-character
random secret, via djangorestframework-api-key's key generator).

* People's scripts: ``Authorization: Bearer <token>`` (or ``Token <token>``) acts as the user.
* Portals: ``Authorization: Api-Key <key>`` or ``X-API-Key: <key>`` acts for the key's
  organisation, within the key's scopes: a key without ``write`` is refused (403) on
  any unsafe method, whatever the view, because the check is made here.

A call carries at most one credential, and every credential it carries counts: an empty,
malformed, unknown, revoked or expired one is a 401 whatever else is sent, and two
different credentials (a token and a key, or two keys) are a 401 too, since the call
could act as either. The same key in both key headers is one credential. An
``Authorization`` scheme that is not ours (a proxy's ``Basic``) is not a credential here.
"""

import contextlib
import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from remag.accounts.caller import (
    remember_memberships,
    with_caller_delegations,
    with_person_memberships,
)
from remag.accounts.choices import APIKeyScope
from remag.accounts.models import Organization, OrganizationAPIKey, UserToken
from remag.db import PreparedQuery

logger = logging.getLogger(__name__)

# last_used_at is written at most this often per credential, not on every request.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


class APIKeyPrincipal:
    """``request.user`` for a call made with an organisation's API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: OrganizationAPIKey) -> None:
        self.api_key = api_key
        self.organization: Organization = api_key.organization

    def get_username(self) -> str:
        return f"api-key:{self.api_key.prefix}"

    username = property(get_username)

    def __str__(self) -> str:
        return self.get_username()


def _lookup(find: Callable[[str], Any], raw_key: str) -> Any:
    """The credential ``raw_key`` names, found by its prefix with ``find`` (a row not
    revoked, or None), checked against its hash and expiry."""
    prefix, dot, secret = raw_key.partition(".")
    if not dot or not prefix or not secret or len(raw_key) > 200:
        raise exceptions.AuthenticationFailed("The credential is malformed.")
    obj = find(prefix)
    if obj is None or not obj.is_valid(raw_key):
        raise exceptions.AuthenticationFailed("The credential is unknown or has been revoked.")
    if obj.has_expired:
        raise exceptions.AuthenticationFailed("The credential has expired.")
    return obj


def _touch(obj: Any) -> None:
    """Record the credential's use, at most once per ``_LAST_USED_RESOLUTION``.

    One caller per credential and period writes (an atomic ``cache.add`` decides): a
    burst of parallel first calls of one credential would otherwise all write its row at
    once, waiting on each other's row lock (PostgreSQL) or refused for a table lock
    (SQLite). The write is bookkeeping: when the database refuses it anyway, the call
    goes on without it (in a savepoint inside a transaction, so the transaction is kept)
    and the claim is given back for the next caller."""
    now = timezone.now()
    if obj.last_used_at is not None and now - obj.last_used_at <= _LAST_USED_RESOLUTION:
        return
    marker = f"credential-used:{type(obj).__name__}:{obj.prefix}"
    try:
        first = cache.add(marker, 1, timeout=_LAST_USED_RESOLUTION.total_seconds())
    except Exception:  # noqa: BLE001 (the cache down: every caller writes, as before)
        first = True
    if not first:
        return
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            type(obj).objects.filter(pk=obj.pk).update(last_used_at=now)
    except OperationalError as exc:
        logger.warning("a credential's last use was not recorded: %s", exc)
        with contextlib.suppress(Exception):  # the next caller may try again
            cache.delete(marker)
        return
    obj.last_used_at = now


PERSON = "person"  # a personal token
API_KEY = "api-key"
_SCHEMES = {"bearer": PERSON, "token": PERSON, "api-key": API_KEY}


def presented_credential(request: Any) -> tuple[str, str] | None:
    """The one credential the call carries, as ``(PERSON | API_KEY, raw)``, or None.

    Raises ``AuthenticationFailed`` when it carries two different ones.
    """
    found: set[tuple[str, str]] = set()
    keyword, _, raw = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    kind = _SCHEMES.get(keyword.lower())
    if kind is not None:
        found.add((kind, raw.strip()))
    if "HTTP_X_API_KEY" in request.META:
        found.add((API_KEY, request.META["HTTP_X_API_KEY"].strip()))
    if len(found) > 1:
        raise exceptions.AuthenticationFailed(
            "Send one credential: a token (Authorization: Bearer) or an API key "
            "(X-API-Key or Authorization: Api-Key), not both or two."
        )
    return found.pop() if found else None


# A token not revoked by its prefix (unique), with its user and the user's memberships:
# a person's caller then costs no query of its own. Compiled once per database: every
# call made with a token runs it, and Django took longer to compile it (an array
# subquery of JSON objects) than PostgreSQL to run it.
_token_by_prefix = PreparedQuery(
    lambda prefix: with_person_memberships(
        UserToken.objects.select_related("user"), user_field="user_id"
    ).filter(prefix=prefix, revoked=False)[:1]
)


def _token(prefix: str) -> UserToken | None:
    return _token_by_prefix.first(prefix, using=UserToken.objects.db)


# A key not revoked by its prefix (unique), with its organisation and the organisations
# delegating to it (the caller's rules ask for them on every list of suppliers):
# compiled once per database, as a token's.
_api_key_by_prefix_query = PreparedQuery(
    lambda prefix: with_caller_delegations(
        OrganizationAPIKey.objects.select_related("organization"),
        organization_field="organization_id",
    ).filter(prefix=prefix, revoked=False)[:1]
)


def _api_key_by_prefix(prefix: str) -> OrganizationAPIKey | None:
    return _api_key_by_prefix_query.first(prefix, using=OrganizationAPIKey.objects.db)


class UserTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, UserToken] | None:
        credential = presented_credential(request)
        if credential is None or credential[0] != PERSON:
            return None
        raw = credential[1]
        if not raw:
            raise exceptions.AuthenticationFailed("No token was given after the keyword.")
        token = _lookup(_token, raw)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        remember_memberships(token.user, token)
        _touch(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="remag"'


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[APIKeyPrincipal, OrganizationAPIKey] | None:
        credential = presented_credential(request)
        if credential is None or credential[0] != API_KEY:
            return None
        raw = credential[1]
        if not raw:
            raise exceptions.AuthenticationFailed("No API key was given.")
        api_key = _lookup(_api_key_by_prefix, raw)
        if not api_key.organization.is_active:
            raise exceptions.AuthenticationFailed("The key's organisation is deactivated.")
        needed = APIKeyScope.READ if request.method in SAFE_METHODS else APIKeyScope.WRITE
        if not api_key.allows(needed):
            raise exceptions.PermissionDenied(f"This API key lacks the '{needed}' scope.")
        _touch(api_key)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Any) -> str:
        return 'Api-Key realm="remag"'
