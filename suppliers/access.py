"""Who may see a supplier's private fields and change it: one rule, used by the API,
the import and the admin.

* operators: everything;
* members (or API keys) of the owning SME organisation: their suppliers;
* the portal that onboarded a supplier: that supplier, until the SME claims it;
* after the claim, an organisation the SME delegated to (``remag.accounts.Delegation``:
  its onboarding portal, if the SME lets it keep the profile up to date), until revoked.
"""

from django.db.models import Q

from remag.accounts.caller import Caller
from suppliers.choices import SupplierStatus
from suppliers.models import Supplier


def supplier_can_change(*, caller: Caller, supplier: Supplier) -> bool:
    return supplier_row_can_change(
        caller=caller,
        owner_id=supplier.owner_id,
        onboarded_by_id=supplier.onboarded_by_id,
        claimed=supplier.claimed_at is not None,
    )


def supplier_row_can_change(
    *, caller: Caller, owner_id: object, onboarded_by_id: object, claimed: bool
) -> bool:
    """:func:`supplier_can_change` over a supplier's plain column values."""
    if caller.is_operator or caller.acts_for(owner_id):
        return True
    if not claimed:
        return caller.acts_for(onboarded_by_id)
    return owner_id in caller.delegating_organization_ids


# Private fields are visible exactly to those who may change the supplier.
supplier_can_see_private = supplier_can_change


def supplier_managed_q(caller: Caller) -> Q:
    """Rows the caller may change (a queryset filter)."""
    if caller.is_operator:
        return Q()
    managed = Q(owner_id__in=caller.organization_ids) | Q(
        onboarded_by_id__in=caller.organization_ids, claimed_at__isnull=True
    )
    if caller.delegating_organization_ids:
        managed |= Q(owner_id__in=caller.delegating_organization_ids)
    return managed


def supplier_visible_q(caller: Caller) -> Q:
    """Rows the caller may read: the public registry plus what the caller manages.

    The public registry is every supplier not deactivated by its owner and not
    suspended by an operator (pending ones included, shown as pending).
    """
    public = Q(is_active=True) & ~Q(status=SupplierStatus.SUSPENDED)
    if caller.is_operator:
        return Q()
    if not caller.organization_ids:
        return public
    return public | supplier_managed_q(caller)


def supplier_private_sql(caller: Caller, *, table: str) -> tuple[str, list[object]]:
    """:func:`supplier_row_can_change` as an SQL condition on the supplier ``table`` of
    a query, with its parameters (for rows whose representation PostgreSQL builds)."""
    if caller.is_operator:
        return "true", []
    organizations = list(caller.organization_ids)
    delegating = list(caller.delegating_organization_ids)
    if not organizations and not delegating:
        return "false", []
    sql = (
        f"{table}.owner_id = ANY(%s)"
        f" OR ({table}.claimed_at IS NULL AND {table}.onboarded_by_id = ANY(%s))"
        f" OR ({table}.claimed_at IS NOT NULL AND {table}.owner_id = ANY(%s))"
    )
    return sql, [organizations, organizations, delegating]
