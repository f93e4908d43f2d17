"""Who is calling, and for which organisations: the one place permissions ask.

A caller is a person (session or personal token), acting for every organisation they
are a member of, or an API key, acting for its one organisation. Operators (members of
an ``operator`` organisation, or Django superusers) may see and act on everything.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, QuerySet
from django.db.models.functions import JSONObject

from remag.accounts.choices import MembershipRole, OrganizationKind
from remag.accounts.models import Delegation, Membership, OrganizationAPIKey

_CACHE_ATTRIBUTE = "_remag_caller"
# A person's memberships, read with their credential (with_person_memberships) and kept
# on the user object for _compute: (organization id, organization kind, role) rows.
_MEMBERSHIPS_ANNOTATION = "caller_memberships"
_MEMBERSHIPS_ATTRIBUTE = "_remag_memberships"
# The organisations delegating to the caller's, read with the credential
# (with_caller_delegations) and kept on the user object, or on the API key's row.
_DELEGATIONS_ANNOTATION = "caller_delegations"
_DELEGATIONS_ATTRIBUTE = "_remag_delegations"


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
    # The organisations delegating to this caller's, when read with its credential
    # (:func:`with_caller_delegations`); None to read them when a rule first asks.
    delegations_read: frozenset[UUID] | None = field(default=None, compare=False)

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
        caller, and only when a rule asks (unless read with the credential)."""
        if self.delegations_read is not None:
            return self.delegations_read
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
        delegations = getattr(user.api_key, _DELEGATIONS_ANNOTATION, None)
        return Caller(
            is_authenticated=True,
            user_id=None,
            api_key_id=user.api_key.public_id,
            organization_ids=frozenset({organization.id}),
            admin_organization_ids=frozenset(),
            organization_kinds=frozenset({organization.kind}),
            is_operator=organization.kind == OrganizationKind.OPERATOR,
            delegations_read=None if delegations is None else frozenset(delegations),
        )
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    rows = getattr(user, _MEMBERSHIPS_ATTRIBUTE, None)
    if rows is None:
        rows = list(
            Membership.objects.filter(user=user, organization__is_active=True).values_list(
                "organization_id", "organization__kind", "role"
            )
        )
    kinds = frozenset(kind for _, kind, _ in rows)
    delegations = getattr(user, _DELEGATIONS_ATTRIBUTE, None)
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
        delegations_read=None if delegations is None else frozenset(delegations),
    )


def with_person_memberships(queryset: QuerySet[Any], *, user_field: str) -> QuerySet[Any]:
    """``queryset``, whose rows name a person in ``user_field`` (a personal token), reading
    that person's memberships of active organisations in the same query, so that the
    person's caller costs no query of its own (:func:`remember_memberships`). Unchanged
    where the database has no array subqueries (SQLite): the caller reads them itself."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    rows = (
        Membership.objects.filter(user_id=OuterRef(user_field), organization__is_active=True)
        .order_by()
        .values(row=JSONObject(o="organization_id", k="organization__kind", r="role"))
    )
    delegations = (
        Delegation.objects.filter(
            grantee__memberships__user_id=OuterRef(user_field),
            grantee__is_active=True,
            revoked_at__isnull=True,
            grantor__is_active=True,
        )
        .order_by()
        .values("grantor_id")
    )
    return queryset.annotate(
        **{
            _MEMBERSHIPS_ANNOTATION: ArraySubquery(rows),
            _DELEGATIONS_ANNOTATION: ArraySubquery(delegations),
        }
    )


def with_caller_delegations(queryset: QuerySet[Any], *, organization_field: str) -> QuerySet[Any]:
    """``queryset``, whose rows name the one organisation a credential acts for in
    ``organization_field`` (an API key), reading the organisations that delegate to it in
    the same query (:attr:`Caller.delegating_organization_ids`). Unchanged on SQLite."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    delegations = (
        Delegation.objects.filter(
            grantee_id=OuterRef(organization_field),
            revoked_at__isnull=True,
            grantor__is_active=True,
        )
        .order_by()
        .values("grantor_id")
    )
    return queryset.annotate(**{_DELEGATIONS_ANNOTATION: ArraySubquery(delegations)})


def remember_memberships(user: Any, row: Any) -> None:
    """Keep on ``user`` the memberships, and the organisations delegating to theirs,
    that ``row`` read (:func:`with_person_memberships`), for the caller of this request
    to use; nothing when ``row`` read none."""
    found = getattr(row, _MEMBERSHIPS_ANNOTATION, None)
    if found is not None:
        memberships = [(UUID(m["o"]), m["k"], m["r"]) for m in found]
        setattr(user, _MEMBERSHIPS_ATTRIBUTE, memberships)
        setattr(user, _DELEGATIONS_ATTRIBUTE, getattr(row, _DELEGATIONS_ANNOTATION, None))
