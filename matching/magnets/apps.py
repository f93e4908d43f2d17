from django.apps import AppConfig


class MagnetsConfig(AppConfig):
    """The magnet side of the market: makers' magnet offers, downstream SMEs' magnet
    requirements, their matches both ways, aggregated demand and pooled requirements."""

    name = "matching.magnets"
    label = "magnets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from matching.magnets import receivers  # noqa: F401  (connects the registry's signals)
