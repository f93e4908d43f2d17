"""Who is calling, and for which organisations: the one place permissions ask.

A caller is a person (session or personal token), acting for every organisation they
are a member of, or an API key, acting for its one organisation. Operators (members of
an ``operator`` organisation, or Django superusers) may see and act on everything.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from remag.accounts.choices import MembershipRole, OrganizationKind
from remag.accounts.models import Delegation, Membership, OrganizationAPIKey

_CACHE_ATTRIBUTE = "_remag_caller"


@dataclass(frozen=True)
class Caller:
    is_authenticated: bool
    user_id: UUID | None
    api_key_id: UUID | None
    organization_ids: frozenset[UUID]
    admin_organization_ids: frozenset[UUID]
    organization_kinds: frozenset[str]
    is_operator: bool
    # False for a person who has not verified their email address: they may read only.
    email_verified: bool = True

    def acts_for(self, organization_id: UUID | None) -> bool:
        return organization_id is not None and organization_id in self.organization_ids

    def may_access(self, organization_id: UUID | None) -> bool:
        """True when the caller acts for the owning organisation or is an operator."""
        return self.is_operator or self.acts_for(organization_id)

    def administers(self, organization_id: UUID | None) -> bool:
        return organization_id is not None and organization_id in self.admin_organization_ids

    @cached_property
    def delegating_organization_ids(self) -> frozenset[UUID]:
        """Organisations that delegated the change of their suppliers to one the caller
        acts for (an SME letting its onboarding portal keep editing). Read once per
        caller, and only when a rule asks."""
        if not self.organization_ids:
            return frozenset()
        return frozenset(
            Delegation.objects.filter(
                grantee_id__in=self.organization_ids,
                revoked_at__isnull=True,
                grantor__is_active=True,
            ).values_list("grantor_id", flat=True)
        )


ANONYMOUS = Caller(
    is_authenticated=False,
    user_id=None,
    api_key_id=None,
    organization_ids=frozenset(),
    admin_organization_ids=frozenset(),
    organization_kinds=frozenset(),
    is_operator=False,
)


def caller_for(request: Any) -> Caller:
    """The caller of ``request`` (a DRF request), computed once per request."""
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    caller = _compute(request.user)
    setattr(request, _CACHE_ATTRIBUTE, caller)
    return caller


def _compute(user: Any) -> Caller:
    # A call with an organisation's API key (``remag.accounts.authentication``'s principal;
    # recognised by its key so this module stays free of the HTTP layer).
    if isinstance(getattr(user, "api_key", None), OrganizationAPIKey):
        organization = user.organization
        return Caller(
            is_authenticated=True,
            user_id=None,
            api_key_id=user.api_key.public_id,
            organization_ids=frozenset({organization.id}),
            admin_organization_ids=frozenset(),
            organization_kinds=frozenset({organization.kind}),
            is_operator=organization.kind == OrganizationKind.OPERATOR,
        )
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    rows = list(
        Membership.objects.filter(user=user, organization__is_active=True).values_list(
            "organization_id", "organization__kind", "role"
        )
    )
    kinds = frozenset(kind for _, kind, _ in rows)
    return Caller(
        is_authenticated=True,
        user_id=user.pk,
        api_key_id=None,
        organization_ids=frozenset(org for org, _, _ in rows),
        admin_organization_ids=frozenset(
            org for org, _, role in rows if role == MembershipRole.ADMIN
        ),
        organization_kinds=kinds,
        is_operator=user.is_superuser or OrganizationKind.OPERATOR in kinds,
        email_verified=user.is_superuser or getattr(user, "email_verified_at", None) is not None,
    )
