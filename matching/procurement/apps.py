from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    """Quotations, awards, orders, deliveries and payments: the deal after the match."""

    name = "matching.procurement"
    label = "procurement"
    default_auto_field = "django.db.models.BigAutoField"
