from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    """The value-chain taxonomy and the SME registry (models arrive with the registry issue)."""

    name = "suppliers"
    default_auto_field = "django.db.models.BigAutoField"
