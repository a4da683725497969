"""The operator admin: who may edit program settings, the on-call roster and consent versions;
what is validated; and that every change is audited (field names only, never values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from crossline.audit.models import Event
from crossline.program.models import (
    MAX_DEADLINE_MINUTES,
    ConsentText,
    OnCallEntry,
    ProgramSettings,
    PublishedError,
)
from crossline.program.policy import current_knowledge
from tests.program.conftest import make_user
from tests.staff import signed_in

pytestmark = pytest.mark.django_db


def settings_url() -> str:
    return f"/admin/program/programsettings/{ProgramSettings.current().pk}/change/"


def settings_form(**overrides: Any) -> dict[str, Any]:
    s = ProgramSettings.current()
    form: dict[str, Any] = {
        "service_states": ", ".join(s.service_states or []),
        "acute_deadline_minutes": s.acute_deadline_minutes,
        "non_acute_deadline_minutes": s.non_acute_deadline_minutes,
        "escalate_after_minutes": s.escalate_after_minutes,
        "notification_emails": s.notification_emails,
        "video_visit_url": s.video_visit_url,
        "telemedicine_basis": s.telemedicine_basis,
        "telemedicine_basis_expires": s.telemedicine_basis_expires or "",
        "_save": "Save",
    }
    if s.universal_asq:
        form["universal_asq"] = "on"
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def events(action: str = "settings.changed") -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("seq"))


# --- who may use it --------------------------------------------------------------------------


def test_a_verified_operator_edits_the_program_settings(operator: User, operator_client: Client):
    page = operator_client.get(settings_url())
    assert page.status_code == 200
    assert b"Service states" in page.content
    response = operator_client.post(
        settings_url(),
        settings_form(
            service_states="fl, nj, ny",
            acute_deadline_minutes=20,
            video_visit_url="https://video.example.org/room",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    s = ProgramSettings.current()
    assert s.service_states == ["FL", "NJ", "NY"]
    assert s.acute_deadline_minutes == 20
    assert s.updated_by == operator
    assert current_knowledge().policy.service_states == frozenset({"FL", "NJ", "NY"})
    assert current_knowledge().policy.alert_deadline_acute_minutes == 20


def test_the_settings_list_goes_straight_to_the_one_row(operator_client: Client):
    response = operator_client.get("/admin/program/programsettings/")
    assert response.status_code == 302
    assert response["Location"] == settings_url()
    assert ProgramSettings.objects.count() == 1


@pytest.mark.parametrize("roles", [("intake",), ("physician",), ("intake", "physician")])
def test_clinicians_without_the_operator_role_cannot(
    client_as: Callable[..., Client], roles: tuple[str, ...]
):
    client = client_as(*roles)
    before = ProgramSettings.current().service_states
    for url in (settings_url(), "/admin/program/oncallentry/", "/admin/program/consenttext/"):
        assert client.get(url).status_code in (302, 403)
    response = client.post(settings_url(), settings_form(service_states="NY"))
    assert response.status_code in (302, 403)
    assert not response.get("Location", "").startswith("/admin/program/")
    assert ProgramSettings.current().service_states == before
    assert not events()


def test_an_operator_without_a_verified_second_factor_cannot(client_as: Callable[..., Client]):
    client = client_as("operator", verified=False)
    assert client.get(settings_url()).status_code == 302
    client.post(settings_url(), settings_form(service_states="NY"))
    assert ProgramSettings.current().service_states is None
    assert not events()


def test_anonymous_visitors_cannot():
    response = Client().get(settings_url())
    assert response.status_code == 302
    assert not response["Location"].startswith("/admin/program/")


def test_there_is_one_settings_row_no_add_no_delete(operator_client: Client):
    pk = ProgramSettings.current().pk
    assert operator_client.get("/admin/program/programsettings/add/").status_code == 403
    delete = f"/admin/program/programsettings/{pk}/delete/"
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert ProgramSettings.objects.count() == 1


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bad"),
    [("FL, XX", "XX"), ("NY ZZ QQ", "QQ, ZZ"), ("Florida", "FLORIDA"), ("F1", "F1")],
)
def test_invalid_state_codes_are_refused_naming_the_field(
    operator_client: Client, value: str, bad: str
):
    response = operator_client.post(settings_url(), settings_form(service_states=value))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["service_states"]
    assert bad in form.errors["service_states"][0]
    assert "Not a USPS code" in response.content.decode()
    assert ProgramSettings.current().service_states is None
    assert current_knowledge().policy.service_states == frozenset({"FL", "NJ"})
    assert not events()


def test_empty_service_states_mean_the_release_default(operator_client: Client):
    s = ProgramSettings.current()
    s.service_states = ["NY"]
    s.save()
    response = operator_client.post(settings_url(), settings_form(service_states=""))
    assert response.status_code == 302
    assert ProgramSettings.current().service_states is None
    assert current_knowledge().policy.service_states == frozenset({"FL", "NJ"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("acute_deadline_minutes", 0),
        ("non_acute_deadline_minutes", 0),
        ("escalate_after_minutes", 0),
        ("notification_emails", "team@example.org\nnot an address"),
        ("video_visit_url", "javascript:alert(1)"),
        ("telemedicine_basis_expires", "31/12/2026x"),
    ],
)
def test_other_bad_values_are_refused_naming_the_field(
    operator_client: Client, field: str, value: Any
):
    before = ProgramSettings.current()
    response = operator_client.post(settings_url(), settings_form(**{field: value}))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    after = ProgramSettings.current()
    assert getattr(after, field) == getattr(before, field)
    assert after.updated_at == before.updated_at
    assert not events()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        # Past any deadline a program can keep: alerts opened then were a server error (the
        # deadline's date out of range) on SQLite, which stores any integer.
        ({"acute_deadline_minutes": 10**12}, "acute_deadline_minutes"),
        ({"non_acute_deadline_minutes": 2147483647}, "non_acute_deadline_minutes"),
        ({"escalate_after_minutes": 10**9}, "escalate_after_minutes"),
        # Inverted: acute risk answered later than non-acute risk.
        (
            {"acute_deadline_minutes": 600, "non_acute_deadline_minutes": 30},
            "acute_deadline_minutes",
        ),
        # An unacknowledged acute alert would pass its deadline before anyone else is paged.
        ({"escalate_after_minutes": 45}, "escalate_after_minutes"),
    ],
)
def test_deadlines_that_would_disable_the_alert_rules_are_refused(
    operator_client: Client, overrides: dict[str, int], field: str
):
    before = ProgramSettings.current()
    response = operator_client.post(settings_url(), settings_form(**overrides))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    after = ProgramSettings.current()
    assert after.updated_at == before.updated_at
    assert current_knowledge().policy.alert_deadline_acute_minutes == 30
    assert not events()


def test_the_longest_deadlines_in_order_are_taken(operator_client: Client):
    longest = MAX_DEADLINE_MINUTES
    response = operator_client.post(
        settings_url(),
        settings_form(
            acute_deadline_minutes=longest,
            non_acute_deadline_minutes=longest,
            escalate_after_minutes=longest,
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert current_knowledge().policy.alert_deadline_non_acute_minutes == longest


def test_clinical_thresholds_and_hard_floors_are_not_editable(operator_client: Client):
    page = operator_client.get(settings_url()).content.decode()
    for name in ("min_age", "phq9_positive", "phq2_gate", "burnout_asq_trigger"):
        assert f'name="{name}"' not in page
    response = operator_client.post(
        settings_url(), settings_form(min_age=16, phq9_positive=5, universal_asq=None)
    )
    assert response.status_code == 302
    policy = current_knowledge().policy
    assert (policy.min_age, policy.phq9_positive) == (18, 10)


# --- the on-call roster ------------------------------------------------------------------------


def test_the_roster_offers_only_active_clinicians(operator_client: Client):
    nurse = make_user("nina.intake", "intake")
    doc = make_user("pat.physician", "physician")
    make_user("only.operator", "operator")
    gone = make_user("gone.intake", "intake")
    gone.is_active = False
    gone.save()
    form = operator_client.get("/admin/program/oncallentry/add/").context["adminform"].form
    offered = set(form.fields["user"].queryset.values_list("username", flat=True))
    assert offered == {nurse.username, doc.username}

    response = operator_client.post(
        "/admin/program/oncallentry/add/", {"user": doc.pk, "position": 1, "active": "on"}
    )
    assert response.status_code == 302
    entry = OnCallEntry.objects.get()
    assert (entry.user, entry.position, entry.active) == (doc, 1, True)
    [event] = events()
    assert event.detail["model"] == "program.oncallentry"
    assert event.detail["operation"] == "added"
    assert set(event.detail["fields"].split(",")) == {"user", "position"}  # active: default


def test_a_non_clinician_cannot_be_put_on_call(operator_client: Client):
    op = make_user("only.operator", "operator")
    response = operator_client.post(
        "/admin/program/oncallentry/add/", {"user": op.pk, "position": 1, "active": "on"}
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not OnCallEntry.objects.exists()
    assert not events()


def test_an_entry_whose_user_lost_their_clinical_role_can_be_switched_off(
    operator_client: Client,
):
    """The roster check refused every save of such an entry, switching it off included."""
    former = make_user("former.physician", "operator")
    entry = OnCallEntry.objects.create(user=former, position=1)
    response = operator_client.post(
        f"/admin/program/oncallentry/{entry.pk}/change/", {"user": former.pk, "position": 1}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry.refresh_from_db()
    assert entry.active is False
    again = operator_client.post(
        f"/admin/program/oncallentry/{entry.pk}/change/",
        {"user": former.pk, "position": 1, "active": "on"},
    )
    assert again.status_code == 200
    assert "user" in again.context["adminform"].form.errors
    # And from the list, where only "active" is editable.
    OnCallEntry.objects.filter(pk=entry.pk).update(active=True)
    listed = operator_client.post(
        "/admin/program/oncallentry/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": entry.pk,
            "_save": "Save",
        },
    )
    assert listed.status_code == 302
    entry.refresh_from_db()
    assert entry.active is False


def test_roster_changes_and_deletions_are_audited(operator_client: Client):
    doc = make_user("pat.physician", "physician")
    entry = OnCallEntry.objects.create(user=doc, position=1)
    url = f"/admin/program/oncallentry/{entry.pk}/"
    response = operator_client.post(f"{url}change/", {"user": doc.pk, "position": 2})
    assert response.status_code == 302
    response = operator_client.post(f"{url}delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not OnCallEntry.objects.exists()
    changed, deleted = events()
    assert changed.detail["operation"] == "changed"
    assert set(changed.detail["fields"].split(",")) == {"position", "active"}
    assert changed.object_id == deleted.object_id == str(entry.pk)
    assert deleted.detail == {"model": "program.oncallentry", "operation": "deleted", "fields": ""}


# --- audit of settings changes -----------------------------------------------------------------


def test_a_settings_change_is_audited_with_field_names_not_values(
    operator: User, operator_client: Client
):
    operator_client.post(
        settings_url(),
        settings_form(
            service_states="NY, FL",
            notification_emails="oncall-team@example.org",
            telemedicine_basis_expires="2027-12-31",
        ),
    )
    [event] = events()
    assert event.actor_id == operator.pk
    assert event.object_type == "program.programsettings"
    assert event.detail["operation"] == "changed"
    assert set(event.detail["fields"].split(",")) == {
        "service_states",
        "notification_emails",
        "telemedicine_basis_expires",
    }
    flat = repr(event.detail)
    assert "NY" not in flat and "example.org" not in flat and "2027" not in flat


def test_a_refused_change_leaves_no_event_and_nothing_stored(operator_client: Client):
    operator_client.post(
        settings_url(), settings_form(service_states="NY", escalate_after_minutes=0)
    )
    assert ProgramSettings.current().service_states is None
    assert not events()


# --- consent text versions ---------------------------------------------------------------------


def consent_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "kind": "contact",
        "version": "2027-01-15",
        "text_en": "I agree that clinicians may contact me (new wording).",
        "text_es": "Acepto que los clínicos se comuniquen conmigo (nueva redacción).",
        "_save": "Save",
        **overrides,
    }
    return {k: v for k, v in form.items() if v is not None}


def test_a_draft_can_be_edited_then_published_and_is_then_immutable(operator_client: Client):
    response = operator_client.post("/admin/program/consenttext/add/", consent_form())
    assert response.status_code == 302
    draft = ConsentText.objects.get()
    assert draft.published_at is None
    url = f"/admin/program/consenttext/{draft.pk}/change/"
    response = operator_client.post(url, consent_form(text_en="Edited draft.", publish="on"))
    assert response.status_code == 302
    published = ConsentText.objects.get()
    assert published.text_en == "Edited draft."
    assert published.published_at is not None

    # The change page is read-only now, and a change posted anyway is refused.
    page = operator_client.get(url)
    assert page.status_code == 200
    assert 'name="text_en"' not in page.content.decode()
    response = operator_client.post(url, consent_form(text_en="Sneaky edit."))
    assert response.status_code == 403
    delete = f"/admin/program/consenttext/{published.pk}/delete/"
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = operator_client.post(
        "/admin/program/consenttext/",
        {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    assert ConsentText.objects.get().text_en == "Edited draft."

    # Outside the admin too: the model refuses, and so does a bulk delete.
    published.text_en = "Changed in a shell."
    with pytest.raises(PublishedError):
        published.save()
    with pytest.raises(PublishedError), transaction.atomic():
        ConsentText.objects.all().delete()
    assert ConsentText.objects.get().text_en == "Edited draft."

    added, publishing = events()
    assert added.detail["operation"] == "added"
    assert set(publishing.detail["fields"].split(",")) == {"text_en", "publish"}


def test_a_new_version_starts_from_the_current_wording(operator_client: Client):
    old = ConsentText.objects.create(
        kind="contact",
        version="v1",
        text_en="Old EN",
        text_es="Old ES",
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    form = operator_client.get(f"/admin/program/consenttext/add/?copy_of={old.pk}")
    initial = form.context["adminform"].form.initial
    assert (initial["kind"], initial["text_en"], initial["text_es"]) == (
        "contact",
        "Old EN",
        "Old ES",
    )
    response = operator_client.post(
        "/admin/program/consenttext/",
        {"action": "new_version_from", "_selected_action": [old.pk]},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/program/consenttext/add/?copy_of={old.pk}")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"version": "2026-11-28"}, "version"),  # the built-in wording's version
        ({"version": "has space"}, "version"),
        ({"version": ""}, "version"),
        ({"text_es": ""}, "text_es"),
        ({"kind": "marketing"}, "kind"),
    ],
)
def test_bad_consent_versions_are_refused(
    operator_client: Client, overrides: dict[str, str], field: str
):
    response = operator_client.post("/admin/program/consenttext/add/", consent_form(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ConsentText.objects.exists()
    assert not events()


def test_a_version_label_is_used_once_per_kind(operator_client: Client):
    operator_client.post("/admin/program/consenttext/add/", consent_form(publish="on"))
    response = operator_client.post("/admin/program/consenttext/add/", consent_form())
    assert response.status_code == 200
    assert ConsentText.objects.count() == 1
    response = operator_client.post(
        "/admin/program/consenttext/add/", consent_form(kind="treatment")
    )
    assert response.status_code == 302


def test_user_admin_mixin_names_the_password_field_only():
    """The mixin the accounts admin can use: the fallback reads labels from Django's message."""
    from crossline.program.admin_audit import _chunks, _labels

    message = [{"changed": {"fields": ["Password"]}}]
    assert _labels(message) == ["Password"]
    long = [f"field_number_{i}" for i in range(12)]
    pieces = _chunks(long)
    assert all(len(v) <= 80 for v in pieces.values())
    assert ",".join(pieces.values()).split(",") == long


def test_signed_in_helper_is_a_real_otp_session(operator: User):
    client = signed_in(operator)
    response = client.get("/admin/")
    assert response.status_code == 200
