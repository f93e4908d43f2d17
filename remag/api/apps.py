from django.apps import AppConfig


class ApiConfig(AppConfig):
    """API conventions shared by every app: problems, pagination, idempotency, throttles."""

    name = "remag.api"
    label = "api"
    verbose_name = "API conventions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from remag.api import openapi  # noqa: F401  (registers schema extensions)
