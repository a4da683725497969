from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "crossline.program"
    label = "program"
    verbose_name = "Program settings"
    default_auto_field = "django.db.models.BigAutoField"
