from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "crossline.course"
    label = "course"
    verbose_name = "Treatment courses"
    default_auto_field = "django.db.models.BigAutoField"
