"""The operator admin: behind our sign-in, MFA and the operator role; users and roles only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from crossline.audit.models import Event
from tests.accounts.helpers import last_seq, make_user, sign_in

pytestmark = pytest.mark.django_db


def operator_client(email: str = "op@example.org") -> tuple[Client, object]:
    user, device, _ = make_user(email, roles=("operator",))
    client = Client()
    sign_in(client, email, device)
    return client, user


def test_a_verified_non_operator_is_refused_the_admin_and_it_is_recorded() -> None:
    _, device, _ = make_user(roles=("physician", "intake"))
    client = Client()
    sign_in(client, "doc@example.org", device)
    before = last_seq()
    page = client.get("/admin/", follow=True)
    assert page.status_code == 403
    assert client.get("/admin/auth/user/", follow=True).status_code == 403
    assert Event.objects.filter(seq__gt=before, action="permission.denied").exists()


def test_an_operator_sees_users_and_roles_and_can_change_roles() -> None:
    client, _ = operator_client()
    target, _, _ = make_user("nurse@example.org", roles=("intake",))
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/auth/user/")
    assert listing.status_code == 200 and b"nurse@example.org" in listing.content
    form = client.get(f"/admin/auth/user/{target.pk}/change/")
    html = form.content.decode()
    assert "is_superuser" not in html and "password" not in html.lower().split("<main")[-1]
    assert client.get("/admin/auth/user/add/").status_code == 403  # createuser makes accounts
    assert client.get(f"/admin/auth/user/{target.pk}/delete/").status_code == 403
    roles = {g.name: g.pk for g in Group.objects.all()}
    before = last_seq()
    response = client.post(
        f"/admin/auth/user/{target.pk}/change/",
        {"is_active": "on", "groups": [roles["intake"], roles["physician"]]},
    )
    assert response.status_code == 302, response.content[:2000]
    assert sorted(target.groups.values_list("name", flat=True)) == ["intake", "physician"]
    event = Event.objects.get(seq__gt=before, action="user.changed")
    assert event.actor == "op@example.org"
    assert event.detail["roles"] == "intake,physician"


def test_the_last_operator_cannot_be_removed() -> None:
    client, op = operator_client()
    roles = {g.name: g.pk for g in Group.objects.all()}
    response = client.post(
        f"/admin/auth/user/{op.pk}/change/", {"is_active": "on", "groups": [roles["intake"]]}
    )
    assert response.status_code == 200
    assert b"last active operator" in response.content
    assert op.groups.filter(name="operator").exists()


def test_the_admin_has_no_password_pages_and_signs_out_through_the_clinic() -> None:
    client, _ = operator_client()
    assert client.get("/admin/password_change/")["Location"] == "/clinic/account/"
    response = client.post("/admin/logout/")
    assert response["Location"] == "/clinic/sign-in/"
    assert client.get("/admin/")["Location"].startswith("/clinic/sign-in/")


def test_turning_an_account_off_ends_its_sessions_for_good() -> None:
    """Django refuses an inactive account's session while it is off, but the session itself
    survived: switching the account back on (a mistaken click undone, a suspension lifted)
    brought back every browser that was signed in, a lost laptop's included."""
    client, _ = operator_client()
    nurse, device, _ = make_user("nurse@example.org", roles=("intake",))
    nurse_browser = Client()
    sign_in(nurse_browser, "nurse@example.org", device)
    assert nurse_browser.get("/clinic/account/").status_code == 200
    roles = {g.name: g.pk for g in Group.objects.all()}
    url = f"/admin/auth/user/{nurse.pk}/change/"
    assert client.post(url, {"groups": [roles["intake"]]}).status_code == 302  # off
    assert client.post(url, {"is_active": "on", "groups": [roles["intake"]]}).status_code == 302
    response = nurse_browser.get("/clinic/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/clinic/sign-in/")


@pytest.mark.django_db(transaction=True)
def test_two_operators_removing_each_other_at_once_leave_one() -> None:
    """The count of other operators is taken under a lock on the operator role: a removal in
    flight (here held open) is counted before the second one is decided."""
    import threading

    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database cannot queue two writers; runs on PostgreSQL")
    client, first = operator_client("first@example.org")
    second, _, _ = make_user("second@example.org", roles=("operator",))
    operator = Group.objects.get(name="operator")
    locked, go = threading.Event(), threading.Event()

    def other_operator_removes_the_second() -> None:  # as the admin would, mid-transaction
        try:
            with transaction.atomic():
                Group.objects.select_for_update().get(pk=operator.pk)
                second.groups.remove(operator)
                locked.set()
                go.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_operator_removes_the_second)
    holder.start()
    assert locked.wait(10)
    roles = {g.name: g.pk for g in Group.objects.all()}
    answers: list[int] = []

    def first_removes_itself() -> None:
        try:
            url = f"/admin/auth/user/{first.pk}/change/"
            answers.append(
                client.post(url, {"is_active": "on", "groups": [roles["intake"]]}).status_code
            )
        finally:
            connection.close()

    remover = threading.Thread(target=first_removes_itself)
    remover.start()
    remover.join(1)
    assert remover.is_alive()  # waiting for the lock, not deciding on what it read before
    go.set()
    holder.join(10)
    remover.join(10)
    assert answers == [200]  # refused: the second is no longer an operator
    assert Group.objects.get(name="operator").user_set.filter(is_active=True).count() == 1
