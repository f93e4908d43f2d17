"""Writes for organisations, memberships, API keys, personal tokens and onboarding."""

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from remag.accounts import emails
from remag.accounts.caller import Caller
from remag.accounts.choices import APIKeyScope, MembershipRole, OrganizationKind
from remag.accounts.models import (
    Delegation,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    PasswordReset,
    User,
    UserToken,
    secret_hash,
)
from remag.accounts.selectors import organization_manage_check, user_by_email
from remag.errors import Conflict, InvalidInput, NotAllowed, NotFound

# Organisation kinds anyone may sign up with; portals and operators are made by operators.
SIGNUP_KINDS = (OrganizationKind.SME, OrganizationKind.MANUFACTURER, OrganizationKind.RESEARCH)
_VERIFY_SALT = "remag.accounts.email-verification"


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


# ------------------------------------------------------------------ onboarding: people


def email_normalise(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def password_validate(*, password: str, user: User) -> None:
    """Django's password validators (``AUTH_PASSWORD_VALIDATORS``), as a field error."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _username_for(email: str) -> str:
    if len(email) <= 150 and not User.objects.filter(username=email).exists():
        return email
    return f"user-{secrets.token_hex(8)}"


def user_signup(
    *,
    email: str,
    password: str,
    organization_name: str,
    organization_kind: str,
    verify_link: str,
    first_name: str = "",
    last_name: str = "",
) -> User | None:
    """A person and their organisation (an SME or a manufacturer, the person its admin).

    Returns the new user, unverified, after sending the verification link
    (``verify_link`` holds ``{token}``). When the address already has an account nothing
    is created and its owner is told by email instead; the caller answers the same
    either way, so sign-up reveals nobody's address (``None`` is returned).
    """
    if organization_kind not in SIGNUP_KINDS:
        raise InvalidInput(
            "Sign up as an `sme` or a `manufacturer`; portal and operator organisations "
            "are created by operators.",
            field="organization_kind",
            code="kind_not_allowed",
        )
    email = email_normalise(email)
    candidate = User(
        username=email,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    password_validate(password=password, user=candidate)
    existing = user_by_email(email=email)
    if existing is not None:
        make_password(password)  # the same hashing time as a new account
        emails.already_registered_email_send(to=existing.email)
        return None
    try:
        with transaction.atomic():
            candidate.username = _username_for(email)
            candidate.set_password(password)
            candidate.save()
            organization = organization_create(name=organization_name, kind=organization_kind)
            membership_add(user=candidate, organization=organization, role=MembershipRole.ADMIN)
    except IntegrityError:
        return None  # the same address signed up at the same moment
    email_verification_send(user=candidate, verify_link=verify_link)
    return candidate


def email_verification_token(*, user: User) -> str:
    """A signed, timestamped token naming the user and the address to verify."""
    return signing.dumps({"user": str(user.pk), "email": user.email}, salt=_VERIFY_SALT)


def email_verification_send(*, user: User, verify_link: str) -> None:
    token = email_verification_token(user=user)
    emails.verification_email_send(to=user.email, link=verify_link.format(token=token))


def email_verification_resend(*, email: str, verify_link: str) -> None:
    """Send a new link when the address belongs to an unverified person; otherwise do
    nothing, and the caller answers the same."""
    user = user_by_email(email=email_normalise(email))
    if user is not None and user.is_active and not user.email_verified:
        email_verification_send(user=user, verify_link=verify_link)


def email_verify(*, token: str) -> User:
    """Mark the address of the token's person verified. A token works once (it names an
    unverified address), for ``REMAG_EMAIL_VERIFICATION_MAX_AGE``."""
    max_age = settings.REMAG_EMAIL_VERIFICATION_MAX_AGE
    try:
        data = signing.loads(token, salt=_VERIFY_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvalidInput(
            "This verification link has expired; ask for a new one.",
            field="token",
            code="token_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidInput(
            "This verification link is not valid.", field="token", code="token_invalid"
        ) from exc
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=data.get("user"), email__iexact=data.get("email", ""))
            .first()
        )
        if user is None:
            raise InvalidInput(
                "This verification link is not valid.", field="token", code="token_invalid"
            )
        if user.email_verified:
            raise InvalidInput(
                "This verification link has already been used.", field="token", code="token_used"
            )
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def user_login(*, email: str, password: str, token_name: str = "") -> tuple[UserToken, str]:
    """A new personal token for the person with this email address and password.

    Unknown address, wrong password and inactive account fail alike (and take as long).
    """
    user = user_by_email(email=email_normalise(email))
    if user is None:
        make_password(password)
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    if not ok or user is None:
        raise InvalidInput(
            "The email address or the password is wrong.", code="invalid_credentials"
        )
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return user_token_create(
        user=user,
        name=token_name.strip() or "log-in",
        expires_at=timezone.now() + settings.REMAG_LOGIN_TOKEN_TTL,
    )


# ------------------------------------------------------------------ passwords


def user_tokens_revoke_all(*, user: User, keep_token_id: object | None = None) -> int:
    """Revoke every personal token of ``user`` (but ``keep_token_id``, the one in use)."""
    tokens = UserToken.objects.filter(user=user, revoked=False)
    if keep_token_id is not None:
        tokens = tokens.exclude(pk=keep_token_id)
    return tokens.update(revoked=True)


def user_password_change(
    *, user: User, current_password: str, new_password: str, keep_token_id: object | None = None
) -> None:
    """Change the password; every other personal token of the person is revoked."""
    if not user.check_password(current_password):
        raise InvalidInput(
            "The current password is wrong.", field="current_password", code="password_wrong"
        )
    try:
        password_validate(password=new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.message_dict["password"]}) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        user_tokens_revoke_all(user=user, keep_token_id=keep_token_id)
    emails.password_changed_email_send(to=user.email)


def password_reset_request(*, email: str, confirm_link: str) -> None:
    """Email a single-use reset token when the address belongs to an active person;
    otherwise do nothing, and the caller answers the same. A new request cancels the
    person's earlier, unused tokens. ``confirm_link`` is where the token is sent."""
    user = user_by_email(email=email_normalise(email))
    if user is None or not user.is_active:
        return
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        PasswordReset.objects.filter(user=user, used_at__isnull=True).delete()
        PasswordReset.objects.create(
            user=user,
            token_hash=secret_hash(secret),
            expires_at=timezone.now() + settings.REMAG_PASSWORD_RESET_MAX_AGE,
        )
    emails.password_reset_email_send(to=user.email, token=secret, confirm_link=confirm_link)


def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set a new password with a reset token: once, before it expires. Every personal
    token of the person is revoked; the address is verified (the token arrived there)."""
    now = timezone.now()
    with transaction.atomic():
        reset = (
            PasswordReset.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=secret_hash(token))
            .first()
        )
        if reset is None or not reset.user.is_active:
            raise InvalidInput(
                "This reset token is not valid.", field="token", code="token_invalid"
            )
        if reset.used_at is not None:
            raise InvalidInput(
                "This reset token has already been used.", field="token", code="token_used"
            )
        if reset.expires_at <= now:
            raise InvalidInput(
                "This reset token has expired; ask for a new one.",
                field="token",
                code="token_expired",
            )
        user = reset.user
        try:
            password_validate(password=new_password, user=user)
        except ValidationError as exc:
            raise ValidationError({"new_password": exc.message_dict["password"]}) from exc
        user.set_password(new_password)
        if user.email_verified_at is None:
            user.email_verified_at = now
        user.save(update_fields=["password", "email_verified_at"])
        reset.used_at = now
        reset.save(update_fields=["used_at", "updated_at"])
        user_tokens_revoke_all(user=user)
    emails.password_changed_email_send(to=user.email)
    return user


# ------------------------------------------------------------------ members and invitations

LAST_ADMIN = "An organisation keeps at least one administrator: make someone else an admin first."


def _lock_memberships(organization_id: object, membership_id: object) -> Membership:
    """Serialise changes to one organisation's admins (the last-admin rule), and re-read
    the membership under the lock."""
    Organization.objects.select_for_update().filter(pk=organization_id).first()
    membership = Membership.objects.filter(pk=membership_id).select_related("user").first()
    if membership is None:
        raise NotFound("No such member.")
    return membership


def _other_admins(membership: Membership) -> int:
    return (
        Membership.objects.filter(
            organization_id=membership.organization_id, role=MembershipRole.ADMIN
        )
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, caller: Caller) -> Membership:
    organization_manage_check(caller=caller, organization=membership.organization)
    if role not in MembershipRole.values:
        raise InvalidInput(f"Choose one of {', '.join(MembershipRole.values)}.", field="role")
    membership = _lock_memberships(membership.organization_id, membership.pk)
    demoting = membership.role == MembershipRole.ADMIN and role != MembershipRole.ADMIN
    if demoting and _other_admins(membership) == 0:
        raise Conflict(LAST_ADMIN, code="last_admin")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, caller: Caller) -> None:
    """An admin (or operator) removes a member; anyone may leave. Never the last admin."""
    if caller.user_id != membership.user_id:
        organization_manage_check(caller=caller, organization=membership.organization)
    membership = _lock_memberships(membership.organization_id, membership.pk)
    if membership.role == MembershipRole.ADMIN and _other_admins(membership) == 0:
        raise Conflict(LAST_ADMIN, code="last_admin")
    membership.delete()


def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    caller: Caller,
    invited_by: User | None,
    accept_link: str,
) -> Invitation:
    """Invite ``email`` to join with ``role``: the token is emailed (and stored hashed).
    Inviting the same address again replaces its open invitation."""
    organization_manage_check(caller=caller, organization=organization)
    if role not in MembershipRole.values:
        raise InvalidInput(f"Choose one of {', '.join(MembershipRole.values)}.", field="role")
    email = email_normalise(email)
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict("This person is already a member.", code="already_member")
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # The organisation's row lock: invitations of one address sent at once take
        # turns, each replacing the one before, rather than both inserting an open
        # invitation and one failing the one-open-invitation constraint.
        Organization.objects.select_for_update().filter(id=organization.id).first()
        Invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=now, updated_at=now)
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=secret_hash(secret),
            invited_by=invited_by,
            expires_at=now + settings.REMAG_INVITATION_MAX_AGE,
        )
    emails.invitation_email_send(
        to=email,
        organization_name=organization.name,
        role=role,
        token=secret,
        accept_link=accept_link,
        expires_at=invitation.expires_at,
    )
    return invitation


def invitation_revoke(*, invitation: Invitation, caller: Caller) -> Invitation:
    organization_manage_check(caller=caller, organization=invitation.organization)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been accepted.", code="invitation_accepted")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def _invitation_for_token(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("organization")
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise InvalidInput(
            "This invitation is not valid (it may have been withdrawn or replaced).",
            field="token",
            code="token_invalid",
        )
    if invitation.accepted_at is not None:
        raise InvalidInput(
            "This invitation has already been accepted.", field="token", code="token_used"
        )
    if invitation.expires_at <= timezone.now():
        raise InvalidInput(
            "This invitation has expired; ask for a new one.", field="token", code="token_expired"
        )
    if not invitation.organization.is_active:
        raise InvalidInput(
            "The inviting organisation is deactivated.", field="token", code="token_invalid"
        )
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Join the inviting organisation: as ``user`` (an existing account), or with a new
    account for the invited address (``password``), verified since the token came there.
    """
    invitation = _invitation_for_token(token)
    now = timezone.now()
    if user is None:
        if not password:
            raise InvalidInput(
                "Choose a password for your new account, or log in and accept with the "
                "account you have.",
                field="password",
                code="required",
            )
        if user_by_email(email=invitation.email) is not None:
            raise Conflict(
                "This address already has an account: log in and accept the invitation with it.",
                code="account_exists",
            )
        user = User(
            username=_username_for(invitation.email),
            email=invitation.email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email_verified_at=now,
        )
        password_validate(password=password, user=user)
        user.set_password(password)
        user.save()
    elif user.email.lower() == invitation.email.lower():
        if user.email_verified_at is None:
            user.email_verified_at = now
            user.save(update_fields=["email_verified_at"])
    elif not user.email_verified:
        raise NotAllowed(
            "Verify your email address first, or accept with the invited address.",
            code="email_not_verified",
        )
    if Membership.objects.filter(user=user, organization=invitation.organization).exists():
        raise Conflict("You are already a member of this organisation.", code="already_member")
    membership = Membership.objects.create(
        user=user, organization=invitation.organization, role=invitation.role
    )
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


# ------------------------------------------------------------------ delegations


def delegation_grant(
    *, grantor: Organization, grantee: Organization, granted_by: User | None = None
) -> Delegation:
    """Let ``grantee`` (a portal) keep changing ``grantor``'s supplier profiles.
    Granting again returns the active delegation."""
    if grantee.kind != OrganizationKind.PORTAL or not grantee.is_active:
        raise InvalidInput(
            "Delegate to an active portal organisation.", field="grantee", code="not_a_portal"
        )
    if grantee.id == grantor.id:
        raise InvalidInput("An organisation cannot delegate to itself.", field="grantee")
    delegation, _ = Delegation.objects.get_or_create(
        grantor=grantor,
        grantee=grantee,
        revoked_at=None,
        defaults={"granted_by": granted_by},
    )
    return delegation


def delegation_revoke(*, delegation: Delegation) -> Delegation:
    """End a delegation now (idempotent); the portal's next change is refused."""
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at", "updated_at"])
    return delegation
