from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    """Calls for collaboration: technology transfer and research partnerships."""

    name = "matching.collaboration"
    label = "collaboration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from matching.collaboration import receivers  # noqa: F401  (the registry's signals)
