from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "crossline.care"
    label = "care"
    verbose_name = "Alerts and visits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crossline.care.alerts import on_case_opened
        from crossline.clinic.cases import case_opened

        # A safety-positive case gets its alert in the transaction that opened the case.
        case_opened.connect(on_case_opened, dispatch_uid="care.alert_on_case_opened")
