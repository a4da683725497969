"""The patient answers through their private link: confirm the time or ask for another.

English or Spanish, the crisis banner on the page, CSRF enforced, no JavaScript needed, the
answer audited by token id only, the patient's note stored encrypted.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client

from crossline.audit.models import Event
from crossline.visits.models import Visit
from tests.visits.conftest import Patient, answer_visit, in_days, make_patient, proposal

pytestmark = pytest.mark.django_db

NOTE = "Mornings before nine suit me better, Quillfeather household"


@pytest.fixture
def proposed(staff: Client, patient: Patient) -> Visit:
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(5, hour=19)))
    return Visit.objects.get(case=patient.case)


def page(token: str, lang: str = "en", client: Client | None = None) -> str:
    response = (client or Client()).get(f"/r/{token}/visit/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def test_the_patient_sees_the_proposed_time_in_their_zone(
    patient: Patient, proposed: Visit
) -> None:
    html = page(patient.token)
    local = proposed.starts_at.astimezone(ZoneInfo("America/New_York"))
    assert '<html lang="en">' in html
    assert "A time is proposed for your visit" in html
    assert f"{local.day}, {local.year}" in html
    assert "3 p.m." in html or "2 p.m." in html  # 19:00 UTC is 15:00 EDT or 14:00 EST
    assert "Eastern time (America/New_York)" in html
    assert proposed.video_url in html
    assert "In crisis? Call or text 988" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_in_spanish_with_usted(patient: Patient, proposed: Visit) -> None:
    html = page(patient.token, lang="es")
    assert '<html lang="es">' in html
    assert "Le proponemos una hora para su visita" in html
    assert "Confirmar esta hora" in html
    assert "Pedir otra hora" in html
    assert "hora del Este (America/New_York)" in html
    assert "¿En crisis? Llame al 988 y oprima 2, o envíe AYUDA al 988" in html
    assert "Confirm this time" not in html


def test_without_a_browser_language_the_page_uses_the_checks_language(program: object) -> None:
    spanish = make_patient(lang="es")
    html = Client().get(f"/r/{spanish.token}/visit/").content.decode()
    assert '<html lang="es">' in html
    assert "Todavía no hay visita" in html


def test_before_any_proposal_the_page_says_a_clinician_will_propose(patient: Patient) -> None:
    html = page(patient.token)
    assert "No visit yet" in html
    assert 'name="answer"' not in html


def test_the_patient_confirms(patient: Patient, proposed: Visit) -> None:
    response = answer_visit(patient, "confirm")
    assert response.status_code == 302
    assert response["Location"] == f"/r/{patient.token}/visit/"
    proposed.refresh_from_db()
    assert proposed.status == "confirmed" and proposed.confirmed_at is not None
    assert proposed.result_token == patient.token  # kept (encrypted) for the e-mails' link
    [event] = Event.objects.filter(action="visit.answered_by_patient")
    assert (event.actor, event.actor_id) == ("anonymous", None)
    assert event.patient == str(patient.case.public_id)
    assert event.detail == {"answer": "confirmed"}
    assert "Your visit is confirmed" in page(patient.token)


def test_the_patient_asks_for_another_time_with_a_note_stored_encrypted(
    staff: Client, patient: Patient, proposed: Visit
) -> None:
    response = answer_visit(patient, "reschedule", message=NOTE)
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == "reschedule_requested"
    assert proposed.patient_message == NOTE
    with connection.cursor() as cursor:
        cursor.execute("SELECT patient_message FROM visits_visit")
        raw = bytes(cursor.fetchone()[0])
    assert b"Quillfeather" not in raw and b"Mornings" not in raw
    [event] = Event.objects.filter(action="visit.answered_by_patient")
    assert event.detail == {"answer": "reschedule"}
    assert "Quillfeather" not in str(Event.objects.values_list("detail", flat=True)[::1])
    # the clinician reads the note (an audited read) and proposes again
    staff_page = staff.get(f"/clinic/cases/{patient.case.public_id}/visit/").content.decode()
    assert NOTE in staff_page
    assert "patient asked for another time" in staff_page


def test_a_new_proposal_after_a_reschedule_can_be_confirmed(
    staff: Client, patient: Patient, proposed: Visit
) -> None:
    answer_visit(patient, "reschedule")
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(6)))
    answer_visit(patient, "confirm")
    visit = Visit.objects.get()
    assert (visit.status, visit.sequence, visit.starts_at) == ("confirmed", 1, in_days(6))


def test_a_too_long_note_is_an_error_naming_the_field(patient: Patient, proposed: Visit) -> None:
    response = Client().post(
        f"/r/{patient.token}/visit/",
        {"answer": "reschedule", "message": "x" * 501},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#id_message"' in html
    assert "Horas que le convienen más" in html
    proposed.refresh_from_db()
    assert proposed.status == "proposed"
    assert not Event.objects.filter(action="visit.answered_by_patient").exists()


def test_a_wrong_token_is_404(patient: Patient, proposed: Visit) -> None:
    assert Client().get("/r/not-the-token/visit/").status_code == 404
    assert Client().post("/r/not-the-token/visit/", {"answer": "confirm"}).status_code == 404
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_csrf_is_enforced(patient: Patient, proposed: Visit) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/r/{patient.token}/visit/", {"answer": "confirm"}).status_code == 403
    proposed.refresh_from_db()
    assert proposed.status == "proposed"
    page(patient.token, client=client)  # sets the CSRF cookie, as a browser would
    token = client.cookies["csrftoken"].value
    response = answer_visit(patient, "confirm", client, csrfmiddlewaretoken=token)
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == "confirmed"


def test_a_confirmed_visit_cannot_be_confirmed_twice(patient: Patient, proposed: Visit) -> None:
    answer_visit(patient, "confirm")
    answer_visit(patient, "confirm")
    assert Event.objects.filter(action="visit.answered_by_patient").count() == 1


def test_the_result_page_links_to_the_visit(patient: Patient, proposed: Visit) -> None:
    html = Client().get(f"/r/{patient.token}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f'href="/r/{patient.token}/visit/"' in html
    assert "Confirme esta hora o pida otra" in html


def test_the_result_page_without_a_visit_has_no_visit_section(patient: Patient) -> None:
    html = Client().get(f"/r/{patient.token}/").content.decode()
    assert "/visit/" not in html


# --- an answer to a page that changed while it was open ------------------------------------------

NOT_SAVED = {"en": "Your answer was not saved", "es": "Su respuesta no se guardó"}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_asking_for_another_time_after_the_clinic_cancelled_is_not_saved_and_says_so(
    patient: Patient, proposed: Visit, lang: str
) -> None:
    assert 'id="reschedule"' in page(patient.token, lang)
    Visit.objects.filter(pk=proposed.pk).update(status=Visit.Status.CANCELLED)  # meanwhile
    answer = {"answer": "reschedule", "message": NOTE}
    sent = Client().post(f"/r/{patient.token}/visit/", answer, HTTP_ACCEPT_LANGUAGE=lang)
    assert sent.status_code == 302
    assert sent["Location"] == f"/r/{patient.token}/visit/?changed=1"
    shown = Client().get(sent["Location"], HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert NOT_SAVED[lang] in shown
    assert {"en": "This visit is cancelled", "es": "Esta visita"}[lang] in shown
    proposed.refresh_from_db()
    assert proposed.status == Visit.Status.CANCELLED and proposed.patient_message is None
    assert not Event.objects.filter(action="visit.answered_by_patient").exists()


def test_confirming_twice_is_one_answer_and_no_notice(patient: Patient, proposed: Visit) -> None:
    for _ in range(2):  # a double tap, or the same page in a second tab
        sent = answer_visit(patient, "confirm")
        assert sent["Location"] == f"/r/{patient.token}/visit/"
    assert Event.objects.filter(action="visit.answered_by_patient").count() == 1
    html = page(patient.token)
    assert "Your visit is confirmed" in html and NOT_SAVED["en"] not in html


def test_an_answer_to_a_proposal_the_clinic_has_since_changed_is_not_stored(
    staff: Client, patient: Patient, proposed: Visit
) -> None:
    """The page showed one time; the clinic proposed another while it was open: "Confirm"
    must not confirm a time the person never saw. The page shows the new time and says so."""
    shown = re.search(r'name="shown" value="([^"]+)"', page(patient.token)).group(1)  # type: ignore[union-attr]
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(6, hour=10)))
    stale = Client().post(f"/r/{patient.token}/visit/", {"answer": "confirm", "shown": shown})
    assert stale.status_code == 302 and stale["Location"].endswith("?changed=1")
    proposed.refresh_from_db()
    assert proposed.status == "proposed" and proposed.sequence == 1
    assert not Event.objects.filter(action="visit.answered_by_patient").exists()
    assert answer_visit(patient, "confirm").status_code == 302  # the time now on the page
    proposed.refresh_from_db()
    assert proposed.status == "confirmed"
