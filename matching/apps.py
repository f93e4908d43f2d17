from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """Procurement requests, scoring, match runs and matches."""

    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from matching import receivers  # noqa: F401  (connects the registry's signals)
