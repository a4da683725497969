from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "crossline.visits"
    label = "visits"
    verbose_name = "Telehealth visits"
    default_auto_field = "django.db.models.BigAutoField"
