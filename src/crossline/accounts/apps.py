from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_roles(sender: object, using: str = "default", **kwargs: object) -> None:
    """The role groups exist after every migrate (and every test-database flush)."""
    from django.contrib.auth.models import Group

    from crossline.accounts.roles import Role

    for role in Role:
        Group.objects.using(using).get_or_create(name=role.value)


class AccountsConfig(AppConfig):
    name = "crossline.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps

        # Sent once per app with models; the auth app's signal comes after its tables exist.
        auth = apps.get_app_config("auth")
        post_migrate.connect(create_roles, sender=auth, dispatch_uid="crossline-roles")
        from crossline.accounts import admin, signals  # noqa: F401  (registers receivers, admin)
