"""People, the organisations they act for, and the credentials scripts and portals use."""

import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from remag.accounts.choices import (
    OPEN_CLAIM_STATUSES,
    APIKeyScope,
    ClaimMethod,
    ClaimStatus,
    MembershipRole,
    OrganizationKind,
)
from remag.db import BaseModel


class User(AbstractUser):
    """A person. Users act for organisations through their memberships.

    A person who signed up logs in with their email address, which is unique (ignoring
    case) among people who have one. Until ``email_verified_at`` is set they may read
    but not write (``remag.accounts.permissions.IsVerifiedToWrite``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"
            ),
        ]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class Organization(BaseModel):
    """An SME, a manufacturer, a third-party portal or the operator (mission staff).

    Every private object in remag is owned by one organisation, and access is checked
    against the caller's organisations.
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices, db_index=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganizationKind.values),
                name="organization_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Membership(BaseModel):
    """A user's place in an organisation; admins manage the organisation's API keys."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )

    class Meta:
        ordering = ("organization__name",)
        constraints = [
            models.UniqueConstraint(
                fields=("user", "organization"), name="membership_unique_user_organization"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


class OrganizationAPIKey(AbstractAPIKey):
    """A portal's (or any organisation's) API key.

    Only a hash is stored; the key itself is shown once, when it is created. A key acts
    for its organisation with its scopes: ``read`` for safe methods, ``write`` for the
    rest (a write key may read too). It can be revoked and can expire.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "organisation API key"
        verbose_name_plural = "organisation API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.organization_id}"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or (
            scope == APIKeyScope.READ and APIKeyScope.WRITE in self.scopes
        )


class UserToken(AbstractAPIKey):
    """A personal token for a person's scripts: ``Authorization: Bearer <token>``.

    Hashed at rest like an API key; acts as the user, with the user's memberships.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "personal token"
        verbose_name_plural = "personal tokens"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) for {self.user_id}"


def secret_hash(secret: str) -> str:
    """How one-time secrets (reset tokens, codes) are stored: a SHA-256 hex digest.

    The secrets are random and long enough (or, for short codes, tied to one row and
    locked out after a few tries) that a fast hash suffices; the plain secret is never
    stored.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


class PasswordReset(BaseModel):
    """A password reset asked for by email: single-use, expiring, stored as a hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_resets")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"password reset for {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


class Invitation(BaseModel):
    """An organisation admin's invitation of a person, by email, to join with a role.

    The token is emailed and stored as a hash; it works once, until ``expires_at``.
    Accepting it with a new or an existing account creates the membership.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            # One open invitation per address and organisation (inviting again replaces it).
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organization_id} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ProfileClaim(BaseModel):
    """An SME organisation's claim of a supplier profile that a portal onboarded.

    Proven by a one-time code sent to the profile's private contact email (stored as a
    hash salted with the claim's id; locked after ``CLAIM_CODE_MAX_ATTEMPTS`` wrong
    tries), or approved by an operator. ``profile_id`` is the ``suppliers.Supplier``
    claimed: this cross-cutting app knows no other app, so it holds the id without a
    foreign key, and ``suppliers.claims`` checks it.
    """

    profile_id = models.UUIDField(db_index=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="profile_claims"
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(max_length=10, choices=ClaimMethod.choices)
    status = models.CharField(max_length=20, choices=ClaimStatus.choices)
    code_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    evidence = models.TextField(
        blank=True, help_text="Operator route: why the contact email is wrong, how to check."
    )
    delegate_to_portal = models.BooleanField(
        default=False, help_text="Let the onboarding portal keep changing the profile."
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("profile_id", "organization"),
                condition=models.Q(status__in=OPEN_CLAIM_STATUSES),
                name="profile_claim_one_open_per_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=ClaimMethod.values), name="profile_claim_method_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ClaimStatus.values), name="profile_claim_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"claim of {self.profile_id} by {self.organization_id} ({self.status})"


class Delegation(BaseModel):
    """An organisation lets another (a portal) keep changing its supplier profiles.

    Granted and revoked by the grantor's admins; a revoked delegation stays as a record.
    """

    grantor = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="delegations_granted"
    )
    grantee = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="delegations_received"
    )
    granted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("grantor", "grantee"),
                condition=models.Q(revoked_at__isnull=True),
                name="delegation_one_active_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(grantor=models.F("grantee")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grantor_id} delegates to {self.grantee_id}"
