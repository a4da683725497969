"""The second factor's secrets leave the plaintext columns django-otp keeps them in.

Forward: every TOTP device's hex secret moves into `AuthenticatorSecret` (encrypted with the key
ring) and its `key` column is set to "sealed"; every recovery code is replaced by its keyed
digest. Nobody has to enrol again: the same authenticator app and the same printed codes work.

Backward: the secrets go back into django-otp's column; recovery codes cannot be recovered from
their digests, so they are deleted (each user makes new ones on their account page).
"""

from binascii import unhexlify

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import crossline.intake.fields
from crossline.crypto import code_digest

SEALED = "sealed"


def seal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorSecret = apps.get_model("accounts", "AuthenticatorSecret")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for device in TOTPDevice.objects.exclude(key=SEALED).order_by("pk"):
        unhexlify(device.key.encode())  # a key that is not hex stops the migration, unchanged
        AuthenticatorSecret.objects.create(device=device, key=device.key)
        device.key = SEALED
        device.save(update_fields=["key"])
    index_key = bytes(settings.CROSSLINE.index_key)
    for token in StaticToken.objects.order_by("pk"):
        token.token = code_digest(index_key, token.token)
        token.save(update_fields=["token"])


def unseal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorSecret = apps.get_model("accounts", "AuthenticatorSecret")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for secret in AuthenticatorSecret.objects.select_related("device").order_by("pk"):
        TOTPDevice.objects.filter(pk=secret.device_id).update(key=secret.key)
    AuthenticatorSecret.objects.all().delete()
    StaticToken.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_profile_enrolmenttoken'),
        ('otp_static', '0003_add_timestamps'),
        ('otp_totp', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthenticatorSecret',
            fields=[
                ('device', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='sealed_key', serialize=False, to='otp_totp.totpdevice')),
                ('key', crossline.intake.fields.EncryptedJSONField()),
            ],
        ),
        migrations.CreateModel(
            name='Authenticator',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('otp_totp.totpdevice',),
        ),
        migrations.CreateModel(
            name='RecoveryCodes',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('otp_static.staticdevice',),
        ),
        migrations.RunPython(seal, unseal),
    ]
