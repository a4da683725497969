from django.apps import AppConfig


class TestingAppConfig(AppConfig):
    name = "tests.testing_app"
    label = "testing_app"
