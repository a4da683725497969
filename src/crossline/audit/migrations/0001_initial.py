from django.db import migrations, models

APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
]
APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$;",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();",
]


def append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRES}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


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
