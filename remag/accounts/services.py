"""Writes for organisations, memberships, API keys and personal tokens."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from remag.accounts.choices import APIKeyScope, MembershipRole, OrganizationKind
from remag.accounts.models import Membership, Organization, OrganizationAPIKey, User, UserToken


def organization_create(*, name: str, kind: str) -> Organization:
    if kind not in OrganizationKind.values:
        raise ValidationError({"kind": f"Unknown organisation kind {kind!r}."})
    organization = Organization(name=name.strip(), kind=kind)
    organization.full_clean()
    organization.save()
    return organization


def membership_add(
    *, user: User, organization: Organization, role: str = MembershipRole.MEMBER
) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership


def _validate_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Must be in the future."})


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    created_by: User | None = None,
) -> tuple[OrganizationAPIKey, str]:
    """Create a key; returns it with the plain key, which is never stored or shown again."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in APIKeyScope.values]
    if not scope_list or unknown:
        raise ValidationError({"scopes": f"Choose one or more of {', '.join(APIKeyScope.values)}."})
    _validate_expiry(expires_at)
    return OrganizationAPIKey.objects.create_key(
        organization=organization,
        name=name,
        scopes=scope_list,
        expiry_date=expires_at,
        created_by=created_by,
    )


def api_key_revoke(*, api_key: OrganizationAPIKey) -> OrganizationAPIKey:
    """Revoke for good (idempotent: revoking a revoked key changes nothing)."""
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def user_token_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[UserToken, str]:
    _validate_expiry(expires_at)
    return UserToken.objects.create_key(user=user, name=name, expiry_date=expires_at)


def user_token_revoke(*, token: UserToken) -> UserToken:
    if not token.revoked:
        token.revoked = True
        token.save(update_fields=["revoked"])
    return token
