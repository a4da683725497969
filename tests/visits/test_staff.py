"""Clinicians propose a visit time, see the answer, record attended / no-show, or cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.visits.models import Visit
from crossline.visits.zones import STATE_ZONES, ZONES, zone_for_state
from tests.staff import signed_in, staff_user
from tests.visits.conftest import (
    VIDEO_URL,
    Patient,
    answer_visit,
    in_days,
    make_patient,
    proposal,
)

pytestmark = pytest.mark.django_db


def url(patient: Patient) -> str:
    return f"/clinic/cases/{patient.case.public_id}/visit/"


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("seq"))


# --- proposing ---------------------------------------------------------------------------------


def test_a_physician_proposes_a_time_stored_in_utc_with_the_programs_video_link(
    staff: Client, patient: Patient
) -> None:
    starts = in_days(3, hour=19)  # 19:00 UTC
    response = staff.post(url(patient), proposal(starts, "America/New_York"))
    assert response.status_code == 302
    visit = Visit.objects.get(case=patient.case)
    assert visit.starts_at == starts
    assert visit.starts_at.utcoffset() == timedelta(0)
    assert (visit.status, visit.duration_minutes, visit.video_url) == ("proposed", 45, VIDEO_URL)
    assert visit.time_zone == "America/New_York"
    [event] = events("visit.proposed")
    assert event.patient == str(patient.case.public_id)
    assert event.actor == "dr.alvarez"
    assert event.detail == {"status": "proposed", "sequence": 0}


def test_the_local_time_is_read_in_the_chosen_zone(staff: Client, patient: Patient) -> None:
    day = in_days(10).date()
    form = {"date": day.isoformat(), "time": "09:30", "time_zone": "America/Chicago",
            "duration_minutes": "30"}  # fmt: skip
    assert staff.post(url(patient), form).status_code == 302
    visit = Visit.objects.get(case=patient.case)
    local = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("America/Chicago"))
    assert visit.starts_at == local.astimezone(UTC)
    assert visit.ends_at - visit.starts_at == timedelta(minutes=30)


def test_the_form_defaults_to_the_patients_state_zone_and_45_minutes(
    staff: Client, program: object
) -> None:
    texan = make_patient(state="TX")
    page = staff.get(url(texan)).content.decode()
    assert '<option value="America/Chicago" selected>' in page
    assert 'value="45"' in page
    assert VIDEO_URL in page


def test_every_state_and_dc_has_a_zone_offered_on_the_form() -> None:
    codes = set(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH"
        " NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
    )
    assert len(codes) == 51 and codes <= set(STATE_ZONES)
    assert set(STATE_ZONES.values()) <= set(ZONES)
    # several zones: the most populous one
    assert zone_for_state("fl") == "America/New_York"
    assert zone_for_state("TN") == "America/Chicago"
    assert zone_for_state("ID") == "America/Boise"
    assert zone_for_state("") == "America/New_York"


def test_a_new_proposal_changes_the_same_visit_and_bumps_its_sequence(
    staff: Client, patient: Patient
) -> None:
    staff.post(url(patient), proposal(in_days(3)))
    staff.post(url(patient), proposal(in_days(4)))
    visit = Visit.objects.get(case=patient.case)
    assert (visit.sequence, visit.starts_at) == (1, in_days(4))
    [changed] = events("visit.changed")
    assert changed.detail == {"status": "proposed", "sequence": 1, "previous": "proposed"}


# --- bad input: a clear error naming the field, nothing stored ---------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date": (timezone.now() - timedelta(days=2)).date().isoformat()}, "date", "in the past"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice"),
        ({"time_zone": "Europe/Paris"}, "time_zone", "Select a valid choice"),
        ({"date": ""}, "date", "This field is required"),
        ({"date": "2026-02-30"}, "date", "Enter a valid date"),
        ({"time": "25:00"}, "time", "Enter a valid time"),
        ({"duration_minutes": "5"}, "duration_minutes", "greater than or equal to 15"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    staff: Client, patient: Patient, change: dict[str, str], field: str, message: str
) -> None:
    response = staff.post(url(patient), {**proposal(in_days(3)), **change})
    assert response.status_code == 422
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in str(form.errors[field])
    assert f'href="#id_{field}"' in response.content.decode()
    assert not Visit.objects.exists()
    assert not events("visit.proposed")


def test_a_time_earlier_today_is_an_error_on_the_time(staff: Client, patient: Patient) -> None:
    eastern = ZoneInfo("America/New_York")
    past = timezone.now() - timedelta(minutes=5)
    response = staff.post(url(patient), proposal(past, "America/New_York"))
    form = response.context["form"]
    # (just after local midnight, five minutes ago was yesterday: then the date is wrong)
    today = past.astimezone(eastern).date() == timezone.now().astimezone(eastern).date()
    assert list(form.errors) == ["time" if today else "date"]
    assert not Visit.objects.exists()


def next_sunday(month: int, first_day: int) -> datetime:
    """The next first Sunday of `month` on or after `first_day` (within the coming year)."""
    today = timezone.now().replace(tzinfo=None)
    for year in (today.year, today.year + 1):
        start = datetime(year, month, first_day)
        sunday = start + timedelta(days=(6 - start.weekday()) % 7)
        if sunday > today + timedelta(days=1):
            return sunday
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("month", "first_day", "at", "message"),
    [
        # second Sunday of March: 02:30 Eastern does not exist
        (3, 8, "02:30", "This time does not exist in that zone (the clocks change)."),
        # first Sunday of November: 01:30 Eastern comes twice, an hour apart (EDT, then EST)
        (11, 1, "01:30", "This time happens twice in that zone on that day (the clocks go back)"),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_is_refused_on_the_time_field(
    staff: Client, patient: Patient, month: int, first_day: int, at: str, message: str
) -> None:
    """Taking either 01:30 would put the visit an hour away from what one of the two people
    reads: the clinician chooses a time that names one moment."""
    sunday = next_sunday(month, first_day)
    form = {"date": sunday.date().isoformat(), "time": at, "time_zone": "America/New_York",
            "duration_minutes": "45"}  # fmt: skip
    response = staff.post(url(patient), form)
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["time"]
    assert message in str(response.context["form"].errors["time"])
    assert 'href="#id_time"' in response.content.decode()
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("at", "zone"),
    [("00:30", "America/New_York"), ("02:30", "America/New_York"), ("01:30", "America/Phoenix")],
)
def test_the_times_around_the_repeated_hour_are_taken(
    staff: Client, patient: Patient, at: str, zone: str
) -> None:
    """Before and after the repeated hour, and in a zone whose clocks do not go back (Arizona),
    the time names one moment."""
    sunday = next_sunday(11, 1)
    form = {"date": sunday.date().isoformat(), "time": at, "time_zone": zone,
            "duration_minutes": "45"}  # fmt: skip
    assert staff.post(url(patient), form).status_code == 302
    hour, minute = map(int, at.split(":"))
    local = Visit.objects.get().starts_at.astimezone(ZoneInfo(zone))
    assert (local.date(), local.hour, local.minute) == (sunday.date(), hour, minute)


def test_without_a_program_video_link_nothing_is_proposed(staff: Client) -> None:
    patient = make_patient()  # the program fixture (which sets the link) is not used
    response = staff.post(url(patient), proposal(in_days(3)))
    assert response.status_code == 422
    assert "no video-visit link" in response.content.decode()
    assert not Visit.objects.exists()


# --- after the visit: attended / no-show; cancelling --------------------------------------------


def past_visit(staff: Client, patient: Patient, *, minutes_ago: int) -> Visit:
    staff.post(url(patient), proposal(in_days(2)))
    visit = Visit.objects.get(case=patient.case)
    visit.starts_at = timezone.now() - timedelta(minutes=minutes_ago)
    visit.status = Visit.Status.CONFIRMED
    visit.save()
    return visit


def test_a_no_show_is_recorded_after_the_visits_end(staff: Client, patient: Patient) -> None:
    visit = past_visit(staff, patient, minutes_ago=60)
    page = staff.get(url(patient)).content.decode()
    assert "No-show" in page
    response = staff.post(f"{url(patient)}{visit.public_id}/outcome", {"outcome": "no_show"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "no_show" and visit.outcome_at is not None
    [event] = events("visit.no_show")
    assert event.detail == {"status": "no_show", "sequence": 0, "previous": "confirmed"}


def test_attended_is_recorded_as_a_change(staff: Client, patient: Patient) -> None:
    visit = past_visit(staff, patient, minutes_ago=60)
    staff.post(f"{url(patient)}{visit.public_id}/outcome", {"outcome": "attended"})
    visit.refresh_from_db()
    assert visit.status == "attended"
    assert events("visit.changed")[-1].detail["status"] == "attended"


def test_no_outcome_before_the_visit_has_ended(staff: Client, patient: Patient) -> None:
    visit = past_visit(staff, patient, minutes_ago=10)  # 45 minutes long: still going
    assert "No-show" not in staff.get(url(patient)).content.decode()
    staff.post(f"{url(patient)}{visit.public_id}/outcome", {"outcome": "no_show"})
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    assert not events("visit.no_show")


def test_a_clinician_cancels_a_visit(staff: Client, patient: Patient) -> None:
    staff.post(url(patient), proposal(in_days(2)))
    visit = Visit.objects.get()
    staff.post(f"{url(patient)}{visit.public_id}/cancel")
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    assert events("visit.changed")[-1].detail["status"] == "cancelled"


def test_the_case_record_can_show_the_visit_history(staff: Client, patient: Patient) -> None:
    from django.template import Context, Template

    staff.post(url(patient), proposal(in_days(3, hour=19)))
    html = Template("{% load visits %}{% case_visits case %}").render(
        Context({"case": patient.case})
    )
    assert "Telehealth visits" in html
    assert "proposed, waiting for the patient" in html
    assert "Eastern time (America/New_York)" in html
    assert "dr.alvarez" in html
    assert f'href="{url(patient)}"' in html  # the record page links to the visit page


# --- who may ----------------------------------------------------------------------------------


def test_an_intake_clinician_may_propose(client: Client, patient: Patient) -> None:
    signed_in(staff_user("intake1", Role.INTAKE), client)
    assert client.get(url(patient)).status_code == 200
    assert client.post(url(patient), proposal(in_days(3))).status_code == 302


def test_an_operator_is_refused_and_the_denial_audited(client: Client, patient: Patient) -> None:
    signed_in(staff_user("op", Role.OPERATOR), client)
    assert client.get(url(patient)).status_code == 403
    assert client.post(url(patient), proposal(in_days(3))).status_code == 403
    assert not Visit.objects.exists()
    assert len(events("permission.denied")) == 2


def test_anonymous_goes_to_the_sign_in_page(client: Client, patient: Patient) -> None:
    response = client.get(url(patient))
    assert response.status_code == 302
    assert response["Location"].startswith("/clinic/sign-in/?next=")


def test_without_the_second_factor_the_clinician_is_sent_to_verify(
    client: Client, patient: Patient
) -> None:
    signed_in(staff_user("dr.b", Role.PHYSICIAN), client, verified=False)
    response = client.post(url(patient), proposal(in_days(3)))
    assert (response.status_code, response["Location"]) == (302, "/clinic/verify/")
    assert not Visit.objects.exists()


def test_an_unknown_case_is_404(staff: Client, program: object) -> None:
    assert staff.get("/clinic/cases/00000000-0000-4000-8000-000000000000/visit/").status_code == 404
    assert staff.get("/clinic/cases/not-a-uuid/visit/").status_code == 404


def test_another_cases_visit_id_is_404(staff: Client, patient: Patient) -> None:
    other = make_patient(email="someone.else@example.org")
    staff.post(f"/clinic/cases/{other.case.public_id}/visit/", proposal(in_days(2)))
    theirs = Visit.objects.get(case=other.case)
    response = staff.post(f"{url(patient)}{theirs.public_id}/cancel")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "proposed"


def test_viewing_the_visit_page_is_audited(staff: Client, patient: Patient) -> None:
    staff.get(url(patient))
    [event] = events("record.viewed")
    assert event.detail == {"view": "visit"}
    assert event.patient == str(patient.case.public_id)


# --- a closed case ---------------------------------------------------------------------------


def close_case(staff: Client, patient: Patient, reason: str = "withdrawn") -> str:
    response = staff.post(
        f"/clinic/cases/{patient.case.public_id}/close/", {"reason": reason}, follow=True
    )
    return str(response.content.decode())


def test_a_case_with_a_visit_still_ahead_is_not_closed(staff: Client, patient: Patient) -> None:
    """Closed with its visit confirmed, the person who withdrew would still get the reminders
    and keep the event in their calendar: the visit is cancelled first (which tells them)."""
    staff.post(url(patient), proposal(in_days(2)))
    visit = Visit.objects.get()
    assert "A video visit is still planned" in close_case(staff, patient)
    patient.case.refresh_from_db()
    assert patient.case.status != "closed"
    staff.post(f"{url(patient)}{visit.public_id}/cancel")
    assert "The case is closed." in close_case(staff, patient)


def test_a_past_visit_without_an_outcome_does_not_keep_a_case_open(
    staff: Client, patient: Patient
) -> None:
    past_visit(staff, patient, minutes_ago=24 * 60)
    assert "The case is closed." in close_case(staff, patient)


def test_no_visit_is_proposed_on_a_closed_case(staff: Client, patient: Patient) -> None:
    close_case(staff, patient)
    response = staff.post(url(patient), proposal(in_days(3)))
    assert response.status_code == 422
    assert "The case is closed" in response.content.decode()
    assert not Visit.objects.exists() and not events("visit.proposed")


# --- a new time for a confirmed visit ------------------------------------------------------------


def confirmed_visit(staff: Client, patient: Patient) -> Visit:
    staff.post(url(patient), proposal(in_days(3)))
    answer_visit(patient, "confirm")
    return Visit.objects.get(case=patient.case, status="confirmed")


def test_a_new_time_for_a_confirmed_visit_cancels_it_and_is_a_visit_of_its_own(
    staff: Client, patient: Patient
) -> None:
    """The confirmed time is in both calendars: it is cancelled there (test_invitations), and
    the row keeps it, so the record shows what was confirmed and then cancelled."""
    old = confirmed_visit(staff, patient)
    assert "a new time cancels it" in staff.get(url(patient)).content.decode()
    response = staff.post(url(patient), proposal(in_days(4)), follow=True)
    assert "The confirmed time is cancelled" in response.content.decode()
    old.refresh_from_db()
    assert (old.status, old.starts_at, old.outcome_at is not None) == (
        "cancelled",
        in_days(3),
        True,
    )
    new = Visit.objects.get(case=patient.case, status="proposed")
    assert (new.starts_at, new.sequence) == (in_days(4), 0)
    assert events("visit.changed")[-1].detail == {
        "status": "cancelled", "sequence": 0, "previous": "confirmed"
    }  # fmt: skip
    assert [e.object_id for e in events("visit.proposed")][-1] == str(new.public_id)
    assert response.context["current"] == new


def test_a_new_time_after_the_patient_asked_for_another_is_a_visit_of_its_own(
    staff: Client, patient: Patient
) -> None:
    old = confirmed_visit(staff, patient)
    answer_visit(patient, "reschedule")
    staff.post(url(patient), proposal(in_days(4)))
    old.refresh_from_db()
    assert (old.status, old.starts_at) == ("cancelled", in_days(3))
    assert Visit.objects.get(case=patient.case, status="proposed").starts_at == in_days(4)


def test_a_confirmed_visit_whose_time_has_come_is_not_moved(
    staff: Client, patient: Patient
) -> None:
    """Whether it took place is recorded first: moving it would lose that it was due."""
    visit = confirmed_visit(staff, patient)
    visit.starts_at = timezone.now() - timedelta(minutes=60)
    visit.save()
    response = staff.post(url(patient), proposal(in_days(4)))
    assert response.status_code == 422
    assert "record whether it took place" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == "confirmed" and Visit.objects.count() == 1
