from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Events (an outbox written with each change) and signed webhooks for portals."""

    name = "remag.webhooks"
    label = "webhooks"
    verbose_name = "Events and webhooks"
    default_auto_field = "django.db.models.BigAutoField"
