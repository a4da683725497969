"""The evaluation form, the decision and the patient's letter, through HTTP as clinicians use it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.evaluation.models import Evaluation, Letter
from crossline.program.models import ProgramSettings
from tests.evaluation.conftest import NON_ACUTE, Screened, clinician
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db

YESTERDAY = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
NOTE = "Kestrelwood note: sleeps badly since the merger"  # distinctive: found only where stored
REASON = "Your blood pressure readings at the visit were too high for home sessions."
WHERE = "Riverside Behavioral Health, 12 Main St — ask for the mood clinic."


def complete(**overrides: str | None) -> dict[str, str]:
    """A form that meets every approval requirement for the CANDIDATE screen."""
    form: dict[str, str | None] = {
        "action": "decide",
        "trial_rows": "3",
        "diagnosis": "yes",
        "diagnosis_note": NOTE,
        "medications": "sertraline 50 mg daily",
        "flag-burnout-present-status": "confirmed",
        "flag-burnout-present-note": "Work stress; context only.",
        "bp_systolic": "128",
        "bp_diastolic": "82",
        "pulse": "72",
        "pdmp_date": YESTERDAY,
        "pdmp_result": "no_concerns",
        "decision": "approve",
        **overrides,
    }
    return {k: v for k, v in form.items() if v is not None}


def positive(**overrides: str | None) -> dict[str, str]:
    """The complete form for the NON_ACUTE screen: its safety flag and a risk assessment."""
    return complete(
        **{
            "flag-safety-non_acute-status": "confirmed",
            "flag-safety-non_acute-note": "Passive ideation confirmed at interview.",
            "risk_level": "low",
            "risk_justification": "No plan, no intent, no past attempts; protective factors.",
            "safety_plan": "Written safety plan; 988 saved in phone; sister aware.",
            **overrides,
        }
    )


def events(action: str) -> list[Event]:
    return list(Event.objects.filter(action=action).order_by("seq"))


def html(response: Any) -> str:
    return str(response.content.decode())


# --- the form: field-named errors and nothing stored ---------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"bp_systolic": "400"}, "bp_systolic", "less than or equal to 300"),
        ({"bp_diastolic": "10"}, "bp_diastolic", "greater than or equal to 30"),
        ({"bp_systolic": "80", "bp_diastolic": "90"}, "bp_systolic", "higher than diastolic"),
        ({"bp_diastolic": None}, "bp_diastolic", "blood pressure needs both numbers"),
        ({"pulse": "400"}, "pulse", "less than or equal to 250"),
        (
            {
                "trial-1-drug": "sertraline",
                "trial-1-adequate": "yes",
                "trial-1-weeks": "-2",
                "trial-1-outcome": "partial",
            },
            "trial-1-weeks",
            "greater than or equal to 0",
        ),
        ({"trial-2-drug": "bupropion"}, "trial-2-weeks", "fill in every part of the row"),
        ({"decision": "decline"}, "decline_reason", "Give the reason for declining"),
        ({"decision": "refer"}, "refer_where", "Say where the person is referred"),
        ({"decision": None}, "decision", "Choose a decision"),
        ({"pdmp_result": "concerns"}, "pdmp_note", "Describe the concerns"),
        ({"pdmp_date": "2999-01-01"}, "pdmp_date", "in the future"),
        ({"in_person_date": YESTERDAY}, "in_person_clinician", "needs a date and the clinician"),
        ({"flag-burnout-present-note": ""}, "flag-burnout-present-note", "Add a note"),
    ],
    ids=[
        "bp-high",
        "diastolic-low",
        "bp-inverted",
        "bp-half",
        "pulse",
        "weeks-negative",
        "trial-incomplete",
        "decline-no-reason",
        "refer-no-where",
        "no-decision",
        "pdmp-concerns",
        "pdmp-future",
        "in-person-half",
        "flag-no-note",
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    candidate: Screened,
    physician: Client,
    overrides: dict[str, str | None],
    field: str,
    message: str,
) -> None:
    response = physician.post(candidate.url, complete(**overrides))
    assert response.status_code == 422
    page = html(response)
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assert f'id="id_{field}_error"' in page and message in page
    assert not Evaluation.objects.exists()
    assert not events("evaluation.saved") and not events("evaluation.decided")
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.OPEN


# --- the interaction re-check on the reconciled list ----------------------------------------


def test_an_maoi_added_at_reconciliation_shows_avoid_and_blocks_approval(
    candidate: Screened, physician: Client
) -> None:
    meds = "sertraline 50 mg daily\nNardil 15 mg twice daily"
    assert (
        physician.post(candidate.url, complete(action="save", medications=meds)).status_code == 302
    )
    page = html(physician.get(candidate.url))
    assert "Nardil 15 mg twice daily" in page and "MAO inhibitor (MAOI)" in page
    assert "avoid — blocks approval" in page and "policy.maoi_home" in page  # the sources

    refused = physician.post(candidate.url, complete(medications=meds))
    assert refused.status_code == 422
    assert "“avoid” interaction is on the reconciled medication list: Nardil 15 mg twice daily" in (
        html(refused)
    )
    assert Evaluation.objects.get().status == Evaluation.Status.DRAFT


def test_a_benzodiazepine_added_at_reconciliation_becomes_a_review_flag(
    candidate: Screened, physician: Client
) -> None:
    meds = "sertraline 50 mg daily\nXanax 0.5 mg at night"
    refused = physician.post(candidate.url, complete(medications=meds))
    assert refused.status_code == 422
    page = html(refused)
    assert "caution — review" in page
    assert "Review flag medication.benzodiazepine is not confirmed or cleared" in page
    assert 'href="#id_flag-medication-benzodiazepine-status"' in page
    assert not Evaluation.objects.exists()

    resolved = complete(
        medications=meds,
        **{
            "flag-medication-benzodiazepine-status": "confirmed",
            "flag-medication-benzodiazepine-note": "Hold on session days; prescriber aware.",
        },
    )
    assert physician.post(candidate.url, resolved).status_code == 302
    evaluation = Evaluation.objects.get()
    assert evaluation.decision == "approve"
    assert evaluation.content["flags"]["medication.benzodiazepine"]["status"] == "confirmed"


# --- treatment history ------------------------------------------------------------------------


def test_the_page_counts_adequate_failed_trials(candidate: Screened, physician: Client) -> None:
    trials = {
        **{f"trial-1-{k}": v for k, v in (("drug", "sertraline"), ("adequate", "yes"),
                                          ("weeks", "8"), ("outcome", "no_response"))},
        **{f"trial-2-{k}": v for k, v in (("drug", "escitalopram"), ("adequate", "yes"),
                                          ("weeks", "6"), ("outcome", "partial"))},
        **{f"trial-3-{k}": v for k, v in (("drug", "bupropion"), ("adequate", "yes"),
                                          ("weeks", "4"), ("outcome", "no_response"))},
    }  # fmt: skip
    assert physician.post(candidate.url, complete(action="save", **trials)).status_code == 302
    page = html(physician.get(candidate.url))
    assert '<strong id="failed-trials">2</strong>' in page
    assert "at least 6 weeks" in page and "Program policy" in page
    assert 'name="trial-5-drug"' in page  # room for more trials after saving
    assert len(Evaluation.objects.get().content["trials"]) == 3


# --- who may do what ------------------------------------------------------------------------


def test_intake_can_save_a_draft_but_not_decide(candidate: Screened, intake: Client) -> None:
    page = html(intake.get(candidate.url))
    assert 'name="decision"' not in page and "Only a prescribing physician" in page

    denied = intake.post(candidate.url, complete())
    assert denied.status_code == 403
    assert not Evaluation.objects.exists()
    (event,) = events("permission.denied")
    assert event.actor == "nurse.joy" and event.patient == str(candidate.case.public_id)

    saved = intake.post(candidate.url, complete(action="save"))
    assert saved.status_code == 302
    evaluation = Evaluation.objects.get()
    assert evaluation.status == Evaluation.Status.DRAFT and evaluation.decision == ""
    assert evaluation.content["decision"] == {"kind": "", "reason": "", "where": ""}
    assert [e.detail for e in events("evaluation.saved")] == [{"status": "draft"}]
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.OPEN


def test_other_roles_and_strangers_are_kept_out(candidate: Screened, operator: Client) -> None:
    assert operator.get(candidate.url).status_code == 403
    anonymous = Client().get(candidate.url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/clinic/sign-in/")
    unverified = Client()
    from django.contrib.auth import get_user_model

    unverified.force_login(get_user_model().objects.get(username="op.erator"))
    assert unverified.get(candidate.url)["Location"] == "/clinic/verify/"


def test_an_unknown_case_is_not_found(physician: Client) -> None:
    assert (
        physician.get("/clinic/cases/00000000-0000-0000-0000-000000000000/evaluation/").status_code
        == 404
    )
    assert physician.get("/clinic/cases/not-a-uuid/evaluation/").status_code == 404


# --- approval ---------------------------------------------------------------------------------


def test_a_physician_approves_when_every_rule_holds(candidate: Screened, physician: Client) -> None:
    response = physician.post(candidate.url, complete())
    assert response.status_code == 302 and response["Location"] == candidate.url
    evaluation = Evaluation.objects.get()
    assert evaluation.status == Evaluation.Status.DECIDED and evaluation.decision == "approve"
    assert evaluation.decided_by is not None and evaluation.decided_by.get_username() == "dr.house"
    assert evaluation.decided_at is not None
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.DECIDED
    assert not Letter.objects.exists()  # an approval sends no letter
    (saved,) = events("evaluation.saved")
    (decided,) = events("evaluation.decided")
    assert saved.detail == {"status": "decided"} and decided.detail == {"decision": "approve"}
    assert decided.patient == str(candidate.case.public_id) and decided.actor == "dr.house"
    page = html(physician.get(candidate.url))
    assert "Decided: <strong>Approve for a course</strong>" in page
    assert 'name="action"' not in page and "disabled" in page  # final: read-only


def test_a_decided_evaluation_is_final(candidate: Screened, physician: Client) -> None:
    assert physician.post(candidate.url, complete()).status_code == 302
    again = physician.post(candidate.url, complete(decision="decline", decline_reason=REASON))
    assert again.status_code == 409
    assert Evaluation.objects.get().decision == "approve" and not Letter.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"risk_level": "high"}, "The documented suicide risk is high"),
        ({"safety_plan": ""}, "document the risk assessment (safety plan missing"),
        ({"flag-safety-non_acute-status": None}, "Review flag safety.non_acute is not confirmed"),
        ({"diagnosis": "uncertain"}, "Major depression is not confirmed"),
        ({"pdmp_date": None, "pdmp_result": None}, "The PDMP check is not recorded"),
    ],
    ids=["high-risk", "no-safety-plan", "flag-unconfirmed", "diagnosis", "no-pdmp"],
)
def test_approval_is_refused_naming_what_is_missing(
    screened: Callable[..., Screened], physician: Client, overrides: dict[str, Any], message: str
) -> None:
    case = screened(NON_ACUTE)
    response = physician.post(case.url, positive(**overrides))
    assert response.status_code == 422
    page = html(response)
    assert "Approval is not possible yet" in page and message in page
    assert not Evaluation.objects.exists() and not events("evaluation.decided")


def test_a_positive_screen_with_a_documented_low_risk_may_be_approved(
    screened: Callable[..., Screened], physician: Client
) -> None:
    case = screened(NON_ACUTE)
    assert physician.post(case.url, positive()).status_code == 302
    assert Evaluation.objects.get().content["risk"]["level"] == "low"


def test_without_a_legal_basis_approval_needs_an_in_person_evaluation(
    candidate: Screened, physician: Client
) -> None:
    program = ProgramSettings.current()
    program.telemedicine_basis_expires = timezone.localdate() - dt.timedelta(days=1)
    program.save()
    page = html(physician.get(candidate.url))
    assert "None in force" in page and "Required for approval" in page

    refused = physician.post(candidate.url, complete())
    assert refused.status_code == 422
    assert "No legal basis for telemedicine prescribing is in force" in html(refused)
    assert not Evaluation.objects.exists()

    in_person = complete(in_person_date=YESTERDAY, in_person_clinician="Dr. A. Osler, MD")
    assert physician.post(candidate.url, in_person).status_code == 302
    assert Evaluation.objects.get().content["in_person"]["date"] == YESTERDAY


# --- privacy: encrypted at rest, audit free of PHI -------------------------------------------


def _raw(table: str, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        (value,) = cursor.fetchone()
    return bytes(value)


def test_the_evaluation_and_letter_are_encrypted_at_rest(
    candidate: Screened, physician: Client
) -> None:
    assert (
        physician.post(
            candidate.url, complete(decision="decline", decline_reason=REASON)
        ).status_code
        == 302
    )
    assert Evaluation.objects.get().content["diagnosis"]["note"] == NOTE  # decrypts
    for table, column, secret in (
        ("evaluation_evaluation", "content", "Kestrelwood"),
        ("evaluation_evaluation", "content", "blood pressure readings"),
        ("evaluation_letter", "text", "blood pressure readings"),
    ):
        raw = _raw(table, column)
        assert secret.encode() not in raw and b"sertraline" not in raw


def test_every_save_and_decision_is_audited_without_phi(
    candidate: Screened, physician: Client
) -> None:
    physician.get(candidate.url)
    physician.post(candidate.url, complete(action="save"))
    # The form carries the version it was loaded at: after the first save, 1.
    physician.post(candidate.url, complete(decision="refer", refer_where=WHERE, version="1"))
    actions = [
        e.action
        for e in Event.objects.filter(patient=str(candidate.case.public_id)).order_by("seq")
    ]
    assert actions == [
        "contact.created", "record.viewed", "evaluation.saved",
        "evaluation.saved", "evaluation.decided", "letter.issued",
    ]  # fmt: skip
    assert events("evaluation.decided")[0].detail == {"decision": "refer"}
    assert events("letter.issued")[0].detail == {"kind": "refer"}
    dump = json.dumps([(e.detail, e.object_id, e.object_type) for e in Event.objects.all()])
    for phi in ("Kestrelwood", "Riverside", "sertraline", "Zephyrine", "Work stress"):
        assert phi not in dump


# --- the patient's letter ------------------------------------------------------------------


def test_a_decline_letter_is_visible_through_the_private_link_in_english(
    candidate: Screened, physician: Client
) -> None:
    patient = Client()
    assert 'href="/r/' + candidate.token + '/letter/"' not in html(
        patient.get(f"/r/{candidate.token}/")
    )
    assert patient.get(f"/r/{candidate.token}/letter/").status_code == 404  # no letter yet

    physician.post(candidate.url, complete(decision="decline", decline_reason=REASON))
    result = html(patient.get(f"/r/{candidate.token}/"))
    assert f'href="/r/{candidate.token}/letter/"' in result and "Read the letter" in result

    letter = patient.get(f"/r/{candidate.token}/letter/")
    assert letter.status_code == 200
    page = html(letter)
    assert "About your request for a physician evaluation" in page
    assert "The physician’s reason" in page and REASON in page
    assert "What to do next" in page and "call or text 988" in page
    assert "In crisis? Call or text 988" in page  # the banner of every patient page
    assert '<html lang="en">' in page
    (viewed,) = events("letter.viewed_by_patient")
    assert viewed.actor == "anonymous" and viewed.patient == str(candidate.case.public_id)
    assert viewed.detail == {"kind": "decline"}


def test_a_referral_letter_is_in_spanish_for_a_spanish_screen(
    screened: Callable[..., Screened], physician: Client
) -> None:
    case = screened(CANDIDATE, lang="es")
    assert (
        physician.post(case.url, complete(decision="refer", refer_where=WHERE)).status_code == 302
    )
    letter = Letter.objects.get()
    assert letter.language == "es" and letter.kind == "refer"
    page = html(Client().get(f"/r/{case.token}/letter/"))
    assert '<html lang="es">' in page
    assert "Una derivación de su médico" in page
    assert "Qué hacer ahora" in page
    assert WHERE in page  # the clinician's words, as written
    assert "¿En crisis? Llame al 988 y oprima 2, o envíe AYUDA al 988" in page


def test_another_token_never_shows_the_letter(
    screened: Callable[..., Screened], physician: Client
) -> None:
    declined = screened(CANDIDATE)
    other = screened(CANDIDATE)
    physician.post(declined.url, complete(decision="decline", decline_reason=REASON))
    assert Client().get(f"/r/{other.token}/letter/").status_code == 404
    assert Client().get("/r/not-a-real-token/letter/").status_code == 404
    assert REASON not in html(Client().get(f"/r/{other.token}/"))


def test_a_signed_in_user_without_a_role_is_refused(candidate: Screened) -> None:
    other = clinician(None, "nobody")  # signed in and verified, but no role
    assert other.get(candidate.url).status_code == 403


def test_a_reading_above_the_label_guide_is_pointed_out_without_blocking(
    candidate: Screened, physician: Client
) -> None:
    assert "Above 140/90 mmHg" not in html(physician.get(candidate.url))
    physician.post(candidate.url, complete(action="save", bp_systolic="150", bp_diastolic="95"))
    page = html(physician.get(candidate.url))
    assert "Above 140/90 mmHg" in page and "S43" in page
    assert (
        physician.post(
            candidate.url, complete(bp_systolic="150", bp_diastolic="95", version="1")
        ).status_code
        == 302
    )


def test_the_spanish_result_page_links_to_the_letter_in_spanish(
    screened: Callable[..., Screened], physician: Client
) -> None:
    case = screened(CANDIDATE, lang="es")
    physician.post(case.url, complete(decision="decline", decline_reason=REASON))
    result = html(Client(HTTP_ACCEPT_LANGUAGE="es").get(f"/r/{case.token}/"))
    assert "Una carta de su médico" in result and "Leer la carta" in result


def test_a_case_claimed_by_another_clinician_is_read_only_except_for_a_physician(
    candidate: Screened, intake: Client, physician: Client
) -> None:
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create_user(username="someone.else")
    Case.objects.filter(pk=candidate.case.pk).update(
        status=Case.Status.CLAIMED, claimed_by=other, claimed_at=timezone.now()
    )
    assert intake.get(candidate.url).status_code == 200  # others may read it
    assert intake.post(candidate.url, complete(action="save")).status_code == 403
    assert not Evaluation.objects.exists()
    assert events("permission.denied")[-1].detail["view"] == "evaluation.held_by_another"
    # A prescribing physician may take over (and decide).
    assert physician.post(candidate.url, complete(action="save")).status_code == 302
    assert Evaluation.objects.get().status == Evaluation.Status.DRAFT


@pytest.mark.parametrize(
    "rows",
    ["²", "٣", "1" * 5000, "-1", "", "3 ", "0x10"],
    ids=["superscript", "arabic-indic", "huge", "negative", "empty", "space", "hex"],
)
def test_a_tampered_trial_row_count_is_never_a_server_error(
    candidate: Screened, physician: Client, rows: str
) -> None:
    response = physician.post(candidate.url, complete(action="save", trial_rows=rows))
    assert response.status_code == 302  # the draft is saved with the default rows
    page = html(physician.get(candidate.url))
    assert 'name="trial-3-drug"' in page and 'name="trial-21-drug"' not in page


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"profile.age": 16}, "The screen records an age under 18"),
        ({"profile.age": None}, "The screen records no age"),
    ],
    ids=["acute-16-year-old", "age-not-answered"],
)
def test_the_adult_floor_holds_whatever_the_screens_eligibility(
    physician: Client, answers: dict[str, Any], message: str
) -> None:
    """An acute screen's eligibility is `safety_first` whatever the age, and a contact-me
    request opens a case for it: the hard floor (age 18, FACTS §G4) reads the age answer, not
    the eligibility, so a 16-year-old's course is never approved — nor one whose age no screen
    recorded."""
    from crossline.intake.models import ContactRequest
    from tests.clinic.conftest import ACUTE, open_case

    screen = {k: v for k, v in {**ACUTE, **answers}.items() if v is not None}
    case = open_case(screen, kind=ContactRequest.Kind.CONTACT_ME)
    assert case.eligibility == "safety_first"
    flags = {f["rule"] for f in case.assessment.decision["flags"]}
    form = positive(**{"flag-safety-non_acute-status": None, "flag-safety-non_acute-note": None})
    for rule in flags:
        form[f"flag-{rule.replace('.', '-')}-status"] = "confirmed"
        form[f"flag-{rule.replace('.', '-')}-note"] = "Discussed at the visit."
    url = f"/clinic/cases/{case.public_id}/evaluation/"
    response = physician.post(url, form)
    assert response.status_code == 422, flags
    page = html(response)
    assert message in page
    assert not Evaluation.objects.exists() and not events("evaluation.decided")


def test_approval_needs_a_state_the_program_serves_now(
    candidate: Screened, physician: Client
) -> None:
    """A contact-me case can come from any state, and an operator may stop serving a state
    after someone screened there: approval reads the service states as they are now."""
    from crossline.program.models import ProgramSettings

    program = ProgramSettings.current()
    program.service_states = ["NJ"]  # the candidate screened in Florida
    program.save()
    response = physician.post(candidate.url, complete())
    assert response.status_code == 422
    assert "(FL) is not one of the program&#x27;s service states (NJ)" in html(response)
    assert not events("evaluation.decided")
    program.service_states = ["FL", "NJ"]
    program.save()
    assert physician.post(candidate.url, complete()).status_code == 302
