"""The applicant record: the answers in the wording and language the person saw, the stored
decision (scores with bands, every reason with its answers and sources, flags, versions), the
contact details — decrypted only here, for clinicians only — and the person's other screens.
Every view is audited, and no audit row carries an answer or a contact detail."""

from __future__ import annotations

import html as html_lib
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.intake.models import Assessment
from crossline.knowledge import load
from tests.clinic.conftest import ACUTE, EMAIL, NAME, NON_ACUTE, PHONE, OpenCase
from tests.staff import signed_in, staff_user
from tests.web.personas import BURNOUT_ONLY, CANDIDATE

pytestmark = pytest.mark.django_db

# All nine PHQ-9 items asked (the screen stays uncertain until item 8): a complete score, a band.
FULL_PHQ9 = {
    **CANDIDATE,
    **{f"phq9.{i}": v for i, v in enumerate((1, 1, 1, 1, 1, 1, 1, 3, 0), start=1)},
    "medical.heart": "yes",
    "medications": ["sertraline 50 mg", "alprazolam"],
}


def page(client: Client, case: Case) -> str:
    response = client.get(f"/clinic/cases/{case.public_id}/")
    assert response.status_code == 200
    return html_lib.unescape(response.content.decode())


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_a_spanish_screen_shows_the_exact_spanish_wording_it_was_shown_in(
    intake: Client, new_case: OpenCase
) -> None:
    k = load()
    case = new_case(FULL_PHQ9, lang="es")
    answers = section(page(intake, case), "answers-title")
    assert "Spanish (Español)" in answers
    phq9_1 = k.items["phq9.1"]
    assert phq9_1.text["es"] in answers  # "Poco interés o placer en hacer cosas"
    assert k.instruments["phq9"].stem["es"] in answers
    assert "Varios días" in answers  # the option as shown for the value 1
    pregnant = k.items["medical.pregnant"]
    assert pregnant.text["es"] in answers
    assert k.docs["contraindications.toml"]["checklist"]["intro"]["es"] in answers
    assert 'lang="es"' in answers
    assert phq9_1.text["en"] in answers  # the English wording beside it, for the clinician
    assert "Florida (FL)" in answers and "sertraline 50 mg, alprazolam" in answers


def test_an_english_screen_shows_the_english_wording_only(
    intake: Client, new_case: OpenCase
) -> None:
    k = load()
    answers = section(page(intake, new_case(FULL_PHQ9)), "answers-title")
    assert k.items["phq9.1"].text["en"] in answers and "Several days" in answers
    assert k.items["phq9.1"].text["es"] not in answers and "Varios días" not in answers


def test_the_answers_follow_the_order_they_were_asked(intake: Client, new_case: OpenCase) -> None:
    case = new_case(FULL_PHQ9)
    answers = section(page(intake, case), "answers-title")
    ids = re.findall(r"<code>([a-z0-9_.]+)</code> =", answers)
    asked = case.assessment.decision["items_asked"]
    assert ids[: len(asked)] == asked
    assert set(ids) == set(FULL_PHQ9)


def test_scores_show_their_totals_and_bands_from_the_stored_decision(
    intake: Client, new_case: OpenCase
) -> None:
    scores = section(page(intake, new_case(FULL_PHQ9)), "scores-title")
    assert re.search(r"PHQ-9</th>\s*<td>10</td>\s*<td>moderate</td>", scores), scores
    assert re.search(r"GAD-7</th>\s*<td>not all asked</td>", scores)


def test_every_reason_shows_its_rule_answers_and_citations_and_every_source_is_listed(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9)
    html = page(intake, case)
    decision = case.assessment.decision
    reasons = section(html, "reasons-title")
    for reason in decision["reasons"]:
        assert f"<code>{reason['rule']}</code>" in reasons
        for citation in reason["citations"]:
            assert f'href="#source-{citation}"' in reasons
    assert "Do you have heart disease" in reasons  # the answer that triggered review.heart
    sources = section(html, "sources-title")
    for citation in decision["sources"]:
        assert f'id="source-{citation}"' in sources
    assert "Kroenke K" in sources  # S1, as stored in the decision


def test_flags_to_review_and_the_decisions_versions_are_shown(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9, lang="es")
    html = page(intake, case)
    flags = section(html, "flags-title")
    for flag in case.assessment.decision["flags"]:
        assert f"<code>{flag['rule']}</code>" in flags and flag["message"] in flags
    assert "review.heart" in flags and "medication.benzodiazepine" in flags
    decision = section(html, "decision-title")
    a = case.assessment
    for version in (a.engine_version, a.knowledge_version, a.policy_version):
        assert version in decision
    assert "candidate" in decision and "not recomputed" in decision


def test_the_stored_decision_is_shown_even_when_the_rules_would_now_decide_otherwise(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9)
    assessment = case.assessment
    stored = dict(assessment.decision)
    stored["eligibility"] = "not_candidate"  # as if an older release had decided this
    stored["engine_version"] = "0.0.1-old"
    Assessment.objects.filter(pk=assessment.pk).update(decision=stored)
    decision = section(page(intake, case), "decision-title")
    assert "not_candidate" in decision and "0.0.1-old" in decision


def test_contact_details_are_shown_on_the_record_only(
    intake: Client, physician: Client, new_case: OpenCase
) -> None:
    case = new_case(NON_ACUTE, kind="contact_me")
    for client in (intake, physician):
        contact = section(page(client, case), "contact-title")
        assert NAME in contact and EMAIL in contact and PHONE in contact
        assert "Contact me (safety screen)" in contact
    queue = intake.get("/clinic/").content.decode()
    assert NAME not in queue and EMAIL not in queue


def test_viewing_the_record_is_audited_without_any_answer_or_contact_detail(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9)
    page(intake, case)
    intake.post(f"/clinic/cases/{case.public_id}/claim/")
    events = {e.action: e for e in Event.objects.filter(patient=str(case.public_id))}
    assert {"record.viewed", "contact.viewed", "case.claimed"} <= set(events)
    assert events["record.viewed"].actor == "ines.intake"
    everything = json.dumps(
        list(Event.objects.values()), default=str
    ).lower()  # every column of every row
    for secret in (NAME, EMAIL, PHONE, "2015550147", "sertraline", "alprazolam"):
        assert secret.lower() not in everything


def test_the_history_lists_every_screen_by_the_same_person_with_links_to_their_cases(
    intake: Client, new_case: OpenCase
) -> None:
    now = timezone.now()
    first = new_case(BURNOUT_ONLY, kind="contact_me", at=now - timedelta(days=60))
    second = new_case(NON_ACUTE, kind="contact_me", at=now - timedelta(days=20), email="")
    current = new_case(FULL_PHQ9, at=now, phone="")  # e-mail only: finds the first one
    stranger = new_case(ACUTE, kind="contact_me", email="someone@else.example", phone="2125550199")
    history = section(page(intake, current), "history-title")
    assert f"/clinic/cases/{first.public_id}/" in history
    assert f"/clinic/cases/{second.public_id}/" not in history  # phone only; current has none
    assert f"/clinic/cases/{stranger.public_id}/" not in history
    assert "this case" in history and "not_indicated" in history
    # Through the phone: the second screen finds the first, not the current (no phone there).
    history = section(page(intake, second), "history-title")
    assert f"/clinic/cases/{first.public_id}/" in history
    assert f"/clinic/cases/{current.public_id}/" not in history


def test_the_record_links_to_the_evaluation(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    intake.post(f"/clinic/cases/{case.public_id}/claim/")
    html = page(intake, case)
    assert f'href="/clinic/cases/{case.public_id}/evaluation/"' in html


# --- who may see it ------------------------------------------------------------------------


def test_an_operator_without_a_clinical_role_gets_403_and_it_is_recorded(
    operator: Client, new_case: OpenCase
) -> None:
    case = new_case()
    for url in ("/clinic/", f"/clinic/cases/{case.public_id}/"):
        response = operator.get(url)
        assert response.status_code == 403
        assert NAME not in response.content.decode()
    response = operator.post(f"/clinic/cases/{case.public_id}/claim/")
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "open"
    assert Event.objects.filter(action="permission.denied").count() == 3
    assert not Event.objects.filter(action__in=["record.viewed", "contact.viewed"]).exists()


def test_an_operator_who_is_also_a_clinician_may_read_the_record(new_case: OpenCase) -> None:
    from crossline.accounts.roles import Role

    both = signed_in(staff_user("olivia.both", Role.OPERATOR, Role.PHYSICIAN))
    assert both.get(f"/clinic/cases/{new_case().public_id}/").status_code == 200


def test_unknown_and_malformed_case_ids_are_404(intake: Client, new_case: OpenCase) -> None:
    new_case()
    for url in (
        f"/clinic/cases/{uuid.uuid4()}/",
        "/clinic/cases/not-a-uuid/",
        "/clinic/cases/1/",
        f"/clinic/cases/{uuid.uuid4()}/claim/",
        f"/clinic/cases/{uuid.uuid4()}/release/",
    ):
        method = intake.post if url.endswith(("claim/", "release/")) else intake.get
        assert method(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(new_case: OpenCase) -> None:
    case = new_case()
    for url in ("/clinic/", f"/clinic/cases/{case.public_id}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/clinic/sign-in/?next=")
    response = Client().post(f"/clinic/cases/{case.public_id}/claim/")
    assert response.status_code == 302 and "sign-in" in response["Location"]
    case.refresh_from_db()
    assert case.status == "open"


def test_a_clinician_without_a_verified_second_factor_is_sent_to_verify(
    new_case: OpenCase, intake_user: User
) -> None:
    case = new_case()
    unverified = signed_in(intake_user, verified=False)
    response = unverified.get(f"/clinic/cases/{case.public_id}/")
    assert response.status_code == 302 and response["Location"] == "/clinic/verify/"
    assert not Event.objects.filter(action="record.viewed").exists()


def test_staff_pages_stay_in_english_whatever_the_browser_asks_for(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9, lang="es")
    response = intake.get(f"/clinic/cases/{case.public_id}/", HTTP_ACCEPT_LANGUAGE="es")
    html = html_lib.unescape(response.content.decode())
    assert "Scores" in html and "Puntajes" not in html and "not all asked" in html
