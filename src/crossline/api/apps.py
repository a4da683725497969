from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "crossline.api"
    label = "api"
