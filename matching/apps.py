from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """Procurement requests, scoring, match runs and matches (arrive with the matching issue)."""

    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"
