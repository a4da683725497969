from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "crossline.program"
    label = "program"
    verbose_name = "Program settings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_delete

        from crossline.program import policy
        from crossline.program.models import ConsentText, ProgramSettings, refuse_published_delete

        post_save.connect(policy.settings_saved, sender=ProgramSettings, dispatch_uid="xl-ps-save")
        post_delete.connect(policy.settings_saved, sender=ProgramSettings, dispatch_uid="xl-ps-del")
        pre_delete.connect(refuse_published_delete, sender=ConsentText, dispatch_uid="xl-consent")
