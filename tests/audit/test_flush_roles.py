"""The test suite's database flush keeps what every test relies on."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from crossline.audit import Action, record
from crossline.audit.models import Event


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_the_audit_log_and_keeps_the_roles_and_the_triggers() -> None:
    record(Action.RECORD_VIEWED, actor="system")
    call_command("flush", verbosity=0, interactive=False)
    assert not Event.objects.exists()
    assert set(Group.objects.values_list("name", flat=True)) >= {"intake", "physician", "operator"}
    event = record(Action.RECORD_VIEWED, actor="system")
    with pytest.raises(PermissionError):
        event.delete()
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event")
