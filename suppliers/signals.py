"""Signals the registry sends so other apps can react without the registry knowing them.

``supplier_changed`` is sent (with ``supplier_id`` and a short ``reason``) whenever a
supplier's matchable data may have changed: registered, updated (profile, capabilities
or certificates), verified, suspended or deactivated. It is sent inside the service's
transaction; receivers that start background work should do so on commit (matching
schedules a debounced refresh of the supplier's opportunities).
"""

from django.dispatch import Signal

supplier_changed = Signal()


def send_supplier_changed(supplier_id: object, reason: str) -> None:
    supplier_changed.send(sender=None, supplier_id=supplier_id, reason=reason)
