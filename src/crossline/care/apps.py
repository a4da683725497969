from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "crossline.care"
    label = "care"
    verbose_name = "Alerts and visits"
    default_auto_field = "django.db.models.BigAutoField"
