"""Signals the registry sends so other apps can react without the registry knowing them.

``supplier_changed`` is sent (with ``supplier_id`` and a short ``reason``) whenever a
supplier's matchable data may have changed: registered, updated (profile, capabilities
or certificates; through the API, an import or the admin's form), verified, suspended,
deactivated, claimed (then with ``previous_owner_id``, the organisation that held it)
or deleted by an operator in the admin (``deleted``, sent before the row goes, with the
owner as ``previous_owner_id``),
and on the day one of its certificates turns valid or lapses with the date
(``certificates_turned``, from ``services.certificates_validity_sweep``).
It is sent inside the change's transaction; receivers that start background work
should do so on commit (matching schedules a debounced refresh of the supplier's
opportunities; magnets rescores the owner's published magnet offers).
"""

from django.dispatch import Signal

supplier_changed = Signal()


def send_supplier_changed(
    supplier_id: object, reason: str, *, previous_owner_id: object = None
) -> None:
    supplier_changed.send(
        sender=None, supplier_id=supplier_id, reason=reason, previous_owner_id=previous_owner_id
    )
