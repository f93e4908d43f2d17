from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "remag.accounts"
    label = "accounts"
    verbose_name = "Organisations and access"
    default_auto_field = "django.db.models.BigAutoField"
