"""Permission building blocks every app reuses.

Object-level checks find the owning organisation of an object through the view's
``owner_field`` (a dotted path ending at an Organization, e.g. ``"owner"`` or
``"request.owner"``); an Organization owns itself. Combine them with DRF's ``&``/``|``.
"""

from typing import Any
from uuid import UUID

from rest_framework.permissions import SAFE_METHODS, BasePermission

from remag.accounts.caller import caller_for
from remag.accounts.models import Organization


def owner_organization_id(obj: Any, view: Any) -> UUID | None:
    if isinstance(obj, Organization):
        return obj.id
    path = getattr(view, "owner_field", "owner")
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        target = getattr(target, part, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


class IsOrganizationMember(BasePermission):
    """The caller acts for the organisation that owns the object, or is an operator."""

    message = "Only members of the owning organisation may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return caller_for(request).is_authenticated

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return caller_for(request).may_access(owner_organization_id(obj, view))


class IsOrganizationAdmin(BasePermission):
    """A person with the admin role in the owning organisation (never an API key)."""

    message = "Only administrators of the owning organisation may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        caller = caller_for(request)
        return caller.is_authenticated and caller.user_id is not None

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return caller_for(request).administers(owner_organization_id(obj, view))


class IsOrganizationAdminOrOperator(IsOrganizationAdmin):
    """A person administering the owning organisation, or an operator (who issues a
    portal's first API key, say). Never an API key."""

    message = "Only administrators of the owning organisation and operators may do this."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        caller = caller_for(request)
        return caller.is_operator or caller.administers(owner_organization_id(obj, view))


class IsVerifiedToWrite(BasePermission):
    """A person who has not verified their email address may read but not write.

    Every API view checks it first (``remag.api.viewsets``), so no view can forget it; a
    view a person needs before verifying (verifying, revoking their own tokens) sets
    ``allow_unverified = True``. API keys and anonymous callers are not concerned.
    """

    message = (
        "Verify your email address first: until then you may read but not change anything "
        "(POST /api/v1/auth/verify-email/resend/ sends the link again)."
    )
    code = "email_not_verified"

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "allow_unverified", False):
            return True
        caller = caller_for(request)
        return not caller.is_authenticated or caller.email_verified


class IsOperator(BasePermission):
    message = "Only operators may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return caller_for(request).is_operator


def organization_kind(*kinds: str) -> type[BasePermission]:
    """A permission class admitting callers acting for an organisation of one of ``kinds``.

    Operators pass as well. Use it for actions such as "post a request" (manufacturers).
    """
    allowed = frozenset(kinds)

    class HasOrganizationKind(BasePermission):
        message = f"Only organisations of kind {', '.join(sorted(allowed))} may do this."

        def has_permission(self, request: Any, view: Any) -> bool:
            caller = caller_for(request)
            return caller.is_operator or bool(caller.organization_kinds & allowed)

    HasOrganizationKind.__name__ = f"OrganizationKind_{'_'.join(sorted(allowed))}"
    return HasOrganizationKind
