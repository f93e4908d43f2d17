"""Token and API-key authentication. Both are hashed at rest (SHA-512 of a 32-character
random secret, via djangorestframework-api-key's key generator).

* People's scripts: ``Authorization: Bearer <token>`` (or ``Token <token>``) acts as the user.
* Portals: ``Authorization: Api-Key <key>`` or ``X-API-Key: <key>`` acts for the key's
  organisation, within the key's scopes: a key without ``write`` is refused (403) on
  any unsafe method, whatever the view, because the check is made here.
"""

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from remag.accounts.choices import APIKeyScope
from remag.accounts.models import Organization, OrganizationAPIKey, UserToken

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


def _lookup(model: type[models.Model], raw_key: str, related: tuple[str, ...]) -> Any:
    prefix, dot, secret = raw_key.partition(".")
    if not dot or not prefix or not secret or len(raw_key) > 200:
        raise exceptions.AuthenticationFailed("The credential is malformed.")
    obj = model.objects.select_related(*related).filter(prefix=prefix, revoked=False).first()
    if obj is None or not obj.is_valid(raw_key):
        raise exceptions.AuthenticationFailed("The credential is unknown or has been revoked.")
    if obj.has_expired:
        raise exceptions.AuthenticationFailed("The credential has expired.")
    return obj


def _touch(obj: Any) -> None:
    now = timezone.now()
    if obj.last_used_at is None or now - obj.last_used_at > _LAST_USED_RESOLUTION:
        type(obj).objects.filter(pk=obj.pk).update(last_used_at=now)
        obj.last_used_at = now


class UserTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, UserToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, raw = header.partition(" ")
        if keyword.lower() not in self.keywords:
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("No token was given after the keyword.")
        token = _lookup(UserToken, raw, ("user",))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        _touch(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="remag"'


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "api-key"

    def _raw_key(self, request: Any) -> str | None:
        custom = request.META.get("HTTP_X_API_KEY")
        if custom:
            return custom.strip()
        keyword, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if keyword.lower() != self.keyword:
            return None
        return raw.strip()

    def authenticate(self, request: Any) -> tuple[APIKeyPrincipal, OrganizationAPIKey] | None:
        raw = self._raw_key(request)
        if raw is None:
            return None
        if not raw:
            raise exceptions.AuthenticationFailed("No API key was given after the keyword.")
        api_key = _lookup(OrganizationAPIKey, raw, ("organization",))
        if not api_key.organization.is_active:
            raise exceptions.AuthenticationFailed("The key's organisation is deactivated.")
        needed = APIKeyScope.READ if request.method in SAFE_METHODS else APIKeyScope.WRITE
        if not api_key.allows(needed):
            raise exceptions.PermissionDenied(f"This API key lacks the '{needed}' scope.")
        _touch(api_key)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Any) -> str:
        return 'Api-Key realm="remag"'
