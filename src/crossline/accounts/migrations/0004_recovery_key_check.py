"""Recovery codes record which index key they were digested under (`RecoveryKeyCheck`).

Forward: existing recovery codes get the current index key's check value — they were digested
under it (migration 0003 or since), unless the key was changed in between, which is exactly
what cannot be told afterwards; from now on a change is seen and the user told to make new
codes. Backward: the table goes; the codes keep working.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crossline.crypto import code_digest


def record_checks(apps, schema_editor):
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    RecoveryKeyCheck = apps.get_model("accounts", "RecoveryKeyCheck")
    # The value of crossline.accounts.models.key_check(), frozen here as migrations must be.
    value = code_digest(bytes(settings.CROSSLINE.index_key), "\x00recovery codes key check")
    RecoveryKeyCheck.objects.bulk_create(
        [RecoveryKeyCheck(device=d, value=value) for d in StaticDevice.objects.order_by("pk")]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sealed_second_factor"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecoveryKeyCheck",
            fields=[
                (
                    "device",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="key_check",
                        serialize=False,
                        to="otp_static.staticdevice",
                    ),
                ),
                ("value", models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(record_checks, migrations.RunPython.noop),
    ]
