from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    """The value-chain taxonomy and the SME registry."""

    name = "suppliers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from suppliers import receivers  # noqa: F401  (connects the registry's signals)
