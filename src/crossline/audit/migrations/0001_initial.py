from django.db import migrations, models


def append_only(apps, schema_editor):
    from crossline.audit.triggers import install

    install(schema_editor.connection)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Event",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField()),
                ("action", models.CharField(max_length=40)),
                ("actor_id", models.BigIntegerField(null=True)),
                ("actor", models.CharField(max_length=254)),
                ("patient", models.CharField(blank=True, db_index=True, max_length=64)),
                ("object_type", models.CharField(blank=True, max_length=40)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("request_id", models.CharField(blank=True, max_length=32)),
                ("detail", models.JSONField(default=dict)),
                ("prev_mac", models.CharField(max_length=64)),
                ("mac", models.CharField(max_length=64)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["actor_id", "seq"], name="audit_actor"),
                    models.Index(fields=["at"], name="audit_time"),
                ],
            },
        ),
        migrations.RunPython(append_only, migrations.RunPython.noop),
    ]
