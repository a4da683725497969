from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crossline.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crossline.accounts import admin, signals  # noqa: F401  (registers receivers, admin)
