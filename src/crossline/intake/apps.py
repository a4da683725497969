from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "crossline.intake"
    label = "intake"
    verbose_name = "Assessments"
