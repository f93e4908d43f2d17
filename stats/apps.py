from django.apps import AppConfig


class StatsConfig(AppConfig):
    """The mission's dashboard: coverage, unmet demand, policy shares, funnel."""

    name = "stats"
    default_auto_field = "django.db.models.BigAutoField"
