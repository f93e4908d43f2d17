"""Claiming a supplier profile a portal onboarded (issue 13).

An SME organisation proves the profile is its own with a one-time code sent to the
profile's private contact email, or asks the operators to approve the claim when that
email is wrong. The claim itself is :func:`suppliers.services.supplier_claim` (the SME
becomes the owner; the portal keeps write access only by delegation; a
``supplier.claimed`` event goes to the portal).

Nothing here tells whether a profile has a contact email, or which: starting a claim
answers the same. A code is 6 digits, stored hashed with the claim's id, good for
``CLAIM_CODE_MAX_AGE_MINUTES`` and dead after ``CLAIM_CODE_MAX_ATTEMPTS`` wrong tries.
"""

import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from remag.accounts import emails
from remag.accounts.caller import Caller
from remag.accounts.choices import OPEN_CLAIM_STATUSES, ClaimMethod, ClaimStatus
from remag.accounts.models import Organization, ProfileClaim, User, secret_hash
from remag.errors import Conflict, InvalidInput, NotAllowed
from suppliers.exceptions import SupplierAlreadyClaimed
from suppliers.models import Supplier
from suppliers.services import supplier_claim

CODE_DIGITS = 6


def _code_hash(claim: ProfileClaim, code: str) -> str:
    return secret_hash(f"{claim.id}:{code.strip()}")


def claimant_check(*, caller: Caller, organization: Organization) -> None:
    """A claim is made by an admin of the claiming SME organisation (a person)."""
    if caller.user_id is None or not caller.administers(organization.id):
        raise NotAllowed(
            "Only an administrator of the SME organisation claims a profile for it.",
            code="not_organization_admin",
        )


def _profile(udyam_number: str) -> Supplier | None:
    return Supplier.objects.filter(udyam_number=udyam_number.strip().upper()).first()


def _refuse_if_owned(supplier: Supplier) -> None:
    if supplier.claimed_at is not None:
        raise SupplierAlreadyClaimed(supplier_id=supplier.id)


def claim_start(
    *,
    organization: Organization,
    udyam_number: str,
    method: str,
    requested_by: User | None,
    evidence: str = "",
    delegate_to_portal: bool = False,
) -> ProfileClaim | None:
    """Start a claim of the profile with ``udyam_number``.

    ``code``: a new code goes to the profile's contact email (if it has one); an earlier
    open claim of the organisation for the profile is replaced. ``operator``: the claim
    awaits an operator (``evidence`` says why the email is wrong). Unknown numbers
    return ``None`` and the caller answers as for any other; a profile that already has
    its SME is refused (409).
    """
    if method not in ClaimMethod.values:
        raise InvalidInput(f"Choose one of {', '.join(ClaimMethod.values)}.", field="method")
    if method == ClaimMethod.OPERATOR and not evidence.strip():
        raise InvalidInput(
            "Tell the operators why the contact email is wrong and how to check the "
            "profile is yours.",
            field="evidence",
        )
    supplier = _profile(udyam_number)
    if supplier is None:
        return None
    _refuse_if_owned(supplier)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        # The organisation's row lock: two claims started at once (a double click) take
        # turns, the second superseding the first, rather than both inserting an open
        # claim and one failing the one-open-claim constraint.
        Organization.objects.select_for_update().filter(id=organization.id).first()
        ProfileClaim.objects.filter(
            profile_id=supplier.id, organization=organization, status__in=OPEN_CLAIM_STATUSES
        ).update(status=ClaimStatus.SUPERSEDED, updated_at=timezone.now())
        claim = ProfileClaim(
            profile_id=supplier.id,
            organization=organization,
            requested_by=requested_by,
            method=method,
            evidence=evidence.strip(),
            delegate_to_portal=delegate_to_portal,
        )
        if method == ClaimMethod.CODE:
            claim.status = ClaimStatus.PENDING
            claim.expires_at = timezone.now() + settings.REMAG_CLAIM_CODE_MAX_AGE
            claim.code_hash = _code_hash(claim, code)
        else:
            claim.status = ClaimStatus.AWAITING_OPERATOR
        claim.save()
    if method == ClaimMethod.CODE and supplier.contact_email:
        emails.claim_code_email_send(
            to=supplier.contact_email,
            profile_name=supplier.legal_name,
            claimant_name=organization.name,
            code=code,
        )
    return claim


WRONG_CODE = "The code is wrong, or no code was sent for this profile to your organisation."


def claim_confirm(
    *, organization: Organization, udyam_number: str, code: str
) -> tuple[Supplier, ProfileClaim]:
    """Claim the profile with the code its contact email received.

    A wrong code counts against the claim, which is locked after
    ``CLAIM_CODE_MAX_ATTEMPTS`` of them (ask for a new code); an expired or used code is
    refused; every refusal is a 400 naming ``code`` (409 when the profile has its SME).
    """
    failure: InvalidInput | None = None
    with transaction.atomic():
        supplier = _profile(udyam_number)
        claim = None
        if supplier is not None:
            claim = (
                ProfileClaim.objects.select_for_update()
                .filter(profile_id=supplier.id, organization=organization, method="code")
                .exclude(status=ClaimStatus.SUPERSEDED)
                .order_by("-created_at")
                .first()
            )
        if claim is not None and claim.status == ClaimStatus.CLAIMED:
            raise InvalidInput("This code has already been used.", field="code", code="code_used")
        if supplier is not None:
            _refuse_if_owned(supplier)
        if claim is None or supplier is None:
            raise InvalidInput(WRONG_CODE, field="code", code="code_wrong")
        if claim.status == ClaimStatus.LOCKED:
            raise InvalidInput(
                "Too many wrong codes: this code no longer works. Ask for a new one.",
                field="code",
                code="code_locked",
            )
        if claim.expires_at is None or claim.expires_at <= timezone.now():
            raise InvalidInput(
                "This code has expired; ask for a new one.", field="code", code="code_expired"
            )
        if not hmac.compare_digest(claim.code_hash, _code_hash(claim, code)):
            claim.failed_attempts += 1
            if claim.failed_attempts >= settings.REMAG_CLAIM_CODE_MAX_ATTEMPTS:
                claim.status = ClaimStatus.LOCKED
            claim.save(update_fields=["failed_attempts", "status", "updated_at"])
            # Raised after the block commits, so the wrong try is counted.
            failure = InvalidInput(WRONG_CODE, field="code", code="code_wrong")
        else:
            supplier = _complete(claim, supplier, method=ClaimMethod.CODE, by=claim.requested_by)
    if failure is not None:
        raise failure
    return supplier, claim


def _complete(claim: ProfileClaim, supplier: Supplier, *, method: str, by: User | None) -> Supplier:
    supplier = supplier_claim(
        supplier=supplier,
        organization=claim.organization,
        method=method,
        delegate_to_portal=claim.delegate_to_portal,
        granted_by=by,
    )
    now = timezone.now()
    claim.status = ClaimStatus.CLAIMED
    claim.save(update_fields=["status", "updated_at"])
    # Other organisations' open claims of the profile end here.
    ProfileClaim.objects.filter(profile_id=supplier.id, status__in=OPEN_CLAIM_STATUSES).exclude(
        pk=claim.pk
    ).update(status=ClaimStatus.SUPERSEDED, updated_at=now)
    return supplier


@transaction.atomic
def claim_decide(
    *, claim: ProfileClaim, approve: bool, decided_by: User | None, note: str = ""
) -> ProfileClaim:
    """An operator approves (the SME gets the profile) or rejects a claim awaiting them."""
    claim = ProfileClaim.objects.select_for_update().select_related("organization").get(pk=claim.pk)
    if claim.status != ClaimStatus.AWAITING_OPERATOR:
        raise Conflict(
            f"This claim is {claim.get_status_display().lower()}; only a claim awaiting an "
            "operator can be decided.",
            code="claim_not_awaiting_operator",
        )
    supplier = Supplier.objects.filter(pk=claim.profile_id).first()
    if supplier is None:
        raise Conflict("The claimed profile no longer exists.", code="profile_gone")
    if approve:
        _complete(claim, supplier, method=ClaimMethod.OPERATOR, by=decided_by)
    else:
        claim.status = ClaimStatus.REJECTED
    claim.decided_by = decided_by
    claim.decided_at = timezone.now()
    claim.decision_note = note.strip()[:300]
    claim.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    return claim


def claim_list(*, caller: Caller) -> QuerySet[ProfileClaim]:
    """Operators: every claim; others: their organisations' claims."""
    claims = ProfileClaim.objects.select_related("organization")
    if caller.is_operator:
        return claims
    return claims.filter(organization_id__in=caller.organization_ids)
