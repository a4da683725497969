from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "crossline.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation and decision"
    default_auto_field = "django.db.models.BigAutoField"
