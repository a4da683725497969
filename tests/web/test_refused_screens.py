"""A screen the person sends back with a problem shows what they sent — a "yes" on the health
checklist is never turned into "No", a typed list of medicines is never emptied — in the
person's language; and once answers have shown suicide risk, the crisis resources stay on every
page of the site in that browser, after the result too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from crossline.intake.models import Assessment
from tests.web.personas import CANDIDATE
from tests.web.test_flow_smoke import answer

pytestmark = pytest.mark.django_db

PANEL = 'class="crisis-panel"'


def walk_to(client: Client, answers: dict[str, Any], stop: str) -> None:
    """Answer screen after screen from `answers` until the flow asks `stop`."""
    location = client.get(client.post("/check/start").url)["Location"]
    while location != f"/check/q/{stop}/":
        screen = location.split("/")[3]
        location = answer(client, screen, **{screen: str(answers[screen])})


def checked(page: str, name: str) -> str | None:
    """The value of the checked radio button named `name`, or None."""
    for tag in re.findall(rf'<input type="radio" name="{re.escape(name)}"[^>]*>', page):
        if " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
    return None


def test_a_refused_checklist_keeps_every_yes_and_not_sure() -> None:
    client = Client()
    walk_to(client, CANDIDATE, "medical")
    first = client.get("/check/q/medical/").content.decode()
    assert checked(first, "medical.pregnant") is None  # nothing looks answered before it is
    response = client.post(  # the confirmation left unticked: refused
        "/check/q/medical/", {"medical.pregnant": "yes", "medical.psychosis": "unsure"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Please confirm that none of the other conditions apply to you." in page
    assert checked(page, "medical.pregnant") == "yes"
    assert checked(page, "medical.psychosis") == "unsure"
    assert checked(page, "medical.brain_bleed") is None
    assert not re.search(r'name="none_of_the_others"[^>]* checked', page)  # still unticked
    assert not any(k.startswith("medical.") for k in Assessment.objects.get().answers)


def test_a_refused_checklist_keeps_a_no_the_person_chose() -> None:
    client = Client()
    walk_to(client, CANDIDATE, "medical")
    page = client.post(
        "/check/q/medical/", {"medical.pregnant": "", "medical.heart": "yes"}
    ).content.decode()
    assert checked(page, "medical.pregnant") == ""  # the "No" button, as it was sent
    assert checked(page, "medical.heart") == "yes"
    assert checked(page, "medical.brain_bleed") is None  # never answered: still blank


def error_links(page: str) -> dict[str, str]:
    """The refused page's error summary: field id → the message its link reads."""
    summary = re.search(r'<div class="errors" role="alert".*?</div>', page, re.S)
    assert summary is not None, "no error summary"
    pairs = re.findall(r'<li id="error-([^"]+)"><a href="#([^"]+)">([^<]+)</a></li>', summary[0])
    assert all(item == target for item, target, _ in pairs)
    return {target: message for _, target, message in pairs}


def described_by_its_error(page: str, tag: str, field: str) -> bool:
    """Whether the `tag` element whose id is `field` (or which holds it: a fieldset, a group
    of radio buttons) is marked invalid and names its message in the summary."""
    for element in re.findall(rf"<{tag}\b[^>]*>", page):
        if f'aria-describedby="error-{field}' in element or (
            f'id="{field}"' in element and f"error-{field}" in element
        ):
            return True
    return False


@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_refused_answer_links_to_its_field_and_the_field_names_its_error(lang: str) -> None:
    """A screen reader user on a refused screen hears the message and can jump to the field
    from the summary; on the field itself, the message is read again (WCAG 3.3.1, 1.3.1)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    walk_to(client, CANDIDATE, "phq9.1")
    radio = client.post("/check/q/phq9.1/", {}).content.decode()
    assert list(error_links(radio)) == ["phq9.1"]
    assert re.search(r'<input type="radio" name="phq9.1" id="phq9.1"', radio)  # the target
    assert described_by_its_error(radio, "fieldset", "phq9.1")

    walk_to(client, CANDIDATE, "profile.age")
    age = client.post("/check/q/profile.age/", {"profile.age": "abc"}).content.decode()
    assert list(error_links(age)) == ["profile.age"]
    assert re.search(
        r'<input id="profile.age"[^>]*aria-describedby="error-profile.age" aria-invalid="true"',
        age,
    )

    walk_to(client, CANDIDATE, "medical")
    checklist = client.post("/check/q/medical/", {"medical.heart": "maybe"}).content.decode()
    assert list(error_links(checklist)) == ["medical.heart"]
    assert re.search(r'<input type="radio" name="medical.heart" id="medical.heart"', checklist)
    assert described_by_its_error(checklist, "div", "medical.heart")
    unconfirmed = client.post("/check/q/medical/", {}).content.decode()
    assert list(error_links(unconfirmed)) == ["none_of_the_others"]
    assert re.search(
        r'id="none_of_the_others"[^>]*aria-describedby="error-none_of_the_others" '
        r'aria-invalid="true"',
        unconfirmed,
    )

    answer(client, "medical", **{"none_of_the_others": "1"})
    medicines = client.post("/check/q/medications/", {}).content.decode()
    assert list(error_links(medicines)) == ["medications"]
    assert 'aria-describedby="error-medications medications-help" aria-invalid="true"' in (
        medicines
    )


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "Which medicines and supplements do you take? · crossline"),
        ("es", "¿Qué medicamentos y suplementos toma? · crossline"),
    ],
)
def test_the_medicines_screen_has_a_title(lang: str, title: str) -> None:
    """Every screen's title is its question: the medicines screen's was empty (" · crossline"),
    the first thing a screen reader announced on it."""
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    walk_to(client, CANDIDATE, "medical")
    answer(client, "medical", **{"none_of_the_others": "1"})
    page = client.get("/check/q/medications/").content.decode()
    assert f"<title>{title}</title>" in page


def test_a_refused_medicines_screen_keeps_the_list_and_says_why_in_spanish() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    walk_to(client, CANDIDATE, "medical")
    answer(client, "medical", **{"none_of_the_others": "1"})
    typed = "sertralina 50 mg\n" + "x" * 250
    response = client.post("/check/q/medications/", {"medications": typed})
    assert response.status_code == 422
    page = response.content.decode()
    assert "El nombre de un medicamento puede tener como máximo 200 caracteres." in page
    assert "sertralina 50 mg\n" + "x" * 250 + "</textarea>" in page
    both = client.post(
        "/check/q/medications/", {"medications": "litio", "no_medications": "1"}
    ).content.decode()
    assert ">litio</textarea>" in both
    assert 'name="no_medications" value="1" checked' in both
    assert "medications" not in Assessment.objects.get().answers


def test_a_thousands_separator_does_not_split_a_medicine() -> None:
    from crossline.intake.flow import parse_screen
    from crossline.knowledge import load

    form = {"medications": "fish oil 1,000 mg\nsertraline, lithium"}
    assert parse_screen(load(), "medications", form)["medications"] == (
        "fish oil 1,000 mg",
        "sertraline",
        "lithium",
    )


def test_an_age_out_of_range_says_the_range_in_the_persons_language() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    walk_to(client, CANDIDATE, "profile.age")
    page = client.post("/check/q/profile.age/", {"profile.age": "150"}).content.decode()
    assert "Escriba un número entero del 0 al 120." in page
    assert 'value="150"' in page  # what was typed stays in the box


def test_once_answers_show_risk_the_crisis_panel_stays_on_every_page_of_the_site() -> None:
    client = Client()
    assert PANEL not in client.get("/").content.decode()
    client.post("/check/start")
    answer(client, "phq9.1", **{"phq9.1": "1"})
    answer(client, "phq9.2", **{"phq9.2": "1"})
    answer(client, "phq9.9", **{"phq9.9": "2"})
    for screen in ("asq.1", "asq.2", "asq.3", "asq.4"):
        answer(client, screen, **{screen: "yes"})
    result = answer(client, "asq.5", **{"asq.5": "yes"})  # acute: the safety screen
    assert result.startswith("/r/")
    for path in ("/", "/learn/", "/crisis/"):  # Back, or on to the home and learn pages
        assert PANEL in client.get(path).content.decode(), path
    # The staff pages are not the person's: the workspace keeps its own crisis footer.
    assert PANEL not in client.get("/clinic/sign-in/").content.decode()
    assert PANEL not in Client().get("/").content.decode()  # another browser


def test_a_risky_answer_sent_to_an_ended_check_keeps_the_panel_on_from_then_on() -> None:
    client = Client()
    client.post("/check/q/asq.1/", {"asq.1": "yes"})  # no check in progress: ended
    assert PANEL in client.get("/").content.decode()


def test_score_bands_and_states_are_named_in_the_persons_language() -> None:
    from django.utils import translation

    from crossline.intake.contact import state_label
    from crossline.intake.results import band_label

    with translation.override("es"):
        assert band_label("moderately_severe") == "moderadamente grave"
        assert state_label("NJ") == "Nueva Jersey (NJ)"
        assert band_label(None) == "—"
    with translation.override("en"):
        assert band_label("moderately_severe") == "moderately severe"
        assert state_label("NJ") == "New Jersey (NJ)"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_states_are_listed_alphabetically_in_the_persons_language(lang: str) -> None:
    """A Spanish reader looks for Míchigan between Massachusetts and Minnesota: sorted by code
    point, the accent put it after Montana, on the screen and in the evaluation request form."""
    from django.utils import translation

    from crossline.intake.contact import evaluation_form
    from crossline.intake.states import state_name
    from crossline.knowledge import load
    from tests.screens import submitted

    def order(labels: list[str]) -> list[str]:
        wanted = [state_name(s, lang) for s in ("MA", "MI", "MN", "MT")]
        return [name for label in labels for name in wanted if label.startswith(name + " (")]

    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    walk_to(client, CANDIDATE, "profile.state")
    page = client.get("/check/q/profile.state/").content.decode()
    on_screen = re.findall(r'<option value="[A-Z]{2}" >([^<]+)</option>', page)
    names = [state_name(s, lang) for s in ("MA", "MI", "MN", "MT")]
    assert order(on_screen) == names
    assessment, _ = submitted(CANDIDATE, lang)
    with translation.override(lang):
        form = evaluation_form(load(), assessment, lang, None)
        listed = [str(label) for _, label in form.fields["state"].choices]  # type: ignore[attr-defined]
    assert order(listed) == names


def test_every_program_policy_record_opens_with_program_policy() -> None:
    """Pages name a policy record in the person's language and then its text without that
    opening (`Citation.statement`): a record worded otherwise read "Program policy — Program
    policy for …" (`crossline knowledge check` holds it for the Spanish texts too)."""
    from crossline.knowledge import load

    for c in load().citations.values():
        if c.type == "policy":
            assert c.text.startswith("Program policy: "), c.id
