"""The education page ("Learn") and the printable result, generated from the knowledge base.

Specifications: every anchor a result can link to exists, in both languages; every condition,
medicine class and cited reference is on the page; program policy is never shown as evidence;
no script, no inline style; the page follows policy.toml. Django test client, real knowledge files.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import replace
from html import escape
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.engine import Knowledge
from crossline.engine.check import check
from crossline.intake import flow
from crossline.intake.education import education_context, example_names, problems
from crossline.intake.models import Assessment
from crossline.intake.results import learn_anchor
from crossline.knowledge import DIRECTORY, load, load_from

LANGS = ("en", "es")
NOT_FOR_BURNOUT = {
    "en": "Ketamine is not a treatment for burnout.",
    "es": "La ketamina no es un tratamiento para el agotamiento laboral.",
}


@pytest.fixture(scope="module")
def k() -> Knowledge:
    return load()


@pytest.fixture(scope="module")
def pages(django_db_setup: None, django_db_blocker: Any) -> dict[str, str]:
    """The Learn page in each language (the language chosen by Accept-Language). The page reads
    the program settings (the service states in force): read-only, so no transaction needed."""
    with django_db_blocker.unblock():
        return {lang: _get(Client(), "/learn/", lang) for lang in LANGS}


def _get(client: Client, url: str, lang: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


class Page(HTMLParser):
    """What the tests read from a page: ids, links, headings, table headers, inline code."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.scripts = 0
        self.style_attrs: list[str] = []
        self.forms_in_main = 0
        self._in_main = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        if tag in ("script", "style"):
            self.scripts += 1
        if "style" in a or any(name.startswith("on") for name in a):
            self.style_attrs.append(tag)
        if tag == "main":
            self._in_main = True
        if self._in_main and tag in ("form", "input", "button", "textarea", "select", "details"):
            self.forms_in_main += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False


def all_rule_ids(k: Knowledge) -> list[str]:
    """Every rule id a decision can carry: the fixed rules and the generated families."""
    ids = list(k.rules)
    for cid in k.conditions:
        ids += [f"exclusion.{cid}", f"exclusion_unsure.{cid}", f"review.{cid}"]
    ids += [f"medication.{mid}" for mid in k.medication_classes]
    return ids


# --- the page, in both languages -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_renders_in_each_language_by_accept_language(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    html = pages[lang]
    assert f'<html lang="{lang}">' in html
    assert escape(k.docs["education.toml"]["page"]["title"][lang]) in html


@pytest.mark.django_db
def test_the_language_cookie_chooses_spanish() -> None:
    client = Client()
    client.cookies["django_language"] = "es"
    html = client.get("/learn/").content.decode()
    assert '<html lang="es">' in html
    assert "Lo que la ketamina puede y no puede hacer" in html


@pytest.mark.parametrize("lang", LANGS)
def test_every_anchor_a_result_reason_can_link_to_exists(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    ids = set(Page(pages[lang]).ids)
    anchors = {learn_anchor(k, rule) for rule in [*all_rule_ids(k), "medication.unrecognised"]}
    required = {"burnout-vs-depression", "how-it-decides", "how-it-decides-safety", "medicines"}
    required |= {f"who-should-not-{cid}" for cid in k.conditions}
    required |= {f"medicines-{mid}" for mid in k.medication_classes}
    assert anchors <= required
    assert sorted(required - ids) == []


@pytest.mark.parametrize("lang", LANGS)
def test_ids_are_unique_and_every_in_page_link_has_a_target(
    pages: dict[str, str], lang: str
) -> None:
    page = Page(pages[lang])
    assert [i for i, n in Counter(page.ids).items() if n > 1] == []
    targets = {h[1:] for h in page.hrefs if h.startswith("#")}
    assert sorted(targets - set(page.ids)) == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_says_plainly_that_ketamine_is_not_a_burnout_treatment(
    pages: dict[str, str], lang: str
) -> None:
    assert NOT_FOR_BURNOUT[lang] in pages[lang]


@pytest.mark.parametrize("lang", LANGS)
def test_every_condition_is_listed_with_its_label_and_explanation(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    html = pages[lang]
    explain = k.docs["education.toml"]["conditions"]
    for cid, cond in k.conditions.items():
        assert escape(cond.label[lang]) in html, cid
        assert escape(explain[cid]["explain"][lang]) in html, cid


def test_exclusions_and_review_conditions_are_grouped_apart(k: Knowledge) -> None:
    section = education_context(k, "en")["who_should_not"]
    assert {c["id"] for c in section["exclusion"]} == {
        cid for cid, c in k.conditions.items() if c.kind == "exclusion"
    }
    assert {c["id"] for c in section["review"]} == {
        cid for cid, c in k.conditions.items() if c.kind == "review"
    }


@pytest.mark.parametrize("lang", LANGS)
def test_every_medicine_class_is_listed_with_severity_in_plain_words_and_examples(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    html = pages[lang]
    groups = k.docs["education.toml"]["medicines"]["groups"]
    for mid, med in k.medication_classes.items():
        assert escape(med.label[lang]) in html, mid
        assert escape(groups[med.effect]["severity"][lang]) in html, mid
        assert escape(", ".join(example_names(med.names))) in html, mid


def test_examples_are_the_first_names_without_spelling_variants() -> None:
    names = ("theophylline", "theo-24", "theo 24", "uniphyl")
    assert example_names(names, limit=3) == ["theophylline", "theo-24", "uniphyl"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_cited_source_is_in_the_references_formatted(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    html = pages[lang]
    page = Page(html)
    cited = {h.removeprefix("#source-") for h in page.hrefs if h.startswith("#source-")}
    # Everything a condition, a medicine class or a rule cites is cited here too.
    expected = {c for cond in k.conditions.values() for c in cond.citations}
    expected |= {c for med in k.medication_classes.values() for c in med.citations}
    expected |= {c for rule in k.rules.values() for c in rule.citations}
    assert sorted(expected - cited) == []
    for cid in cited:
        assert f'id="source-{cid}"' in html, cid
        assert escape(k.citations[cid].formatted(lang)) in html, cid


def test_program_policy_is_listed_as_program_policy_never_as_evidence(k: Knowledge) -> None:
    refs = education_context(k, "en")["references"]
    assert refs["policy"], "the page cites program policy"
    assert all(k.citations[r["id"]].type == "policy" for r in refs["policy"])
    assert all(k.citations[r["id"]].type != "policy" for r in refs["evidence"])
    assert all(r["text"].startswith("Program policy — ") for r in refs["policy"])


# The English words of a policy reference: none is on a Spanish page.
ENGLISH_POLICY_WORDS = ("Program policy", "approver:", "awaiting sign-off", "signed off")


def test_the_spanish_references_list_program_policy_and_its_approval_in_spanish(
    k: Knowledge, pages: dict[str, str]
) -> None:
    refs = education_context(k, "es")["references"]
    for r in refs["policy"]:
        c = k.citations[r["id"]]
        assert r["text"].startswith("Política del programa — " + c.statement("es")), c.id
        assert r["text"].endswith(
            "(responsable de la aprobación: política predeterminada de crossline (para firma de "
            f"la dirección médica del programa); {c.date}; pendiente de firma)"
        ), c.id
        assert escape(r["text"]) in pages["es"]
        assert escape(c.statement("en")) not in pages["es"], c.id
    assert not [w for w in ENGLISH_POLICY_WORDS if w in pages["es"]]
    # Evidence is cited as published, in its own language, on both pages.
    assert all(r["text"] == k.citations[r["id"]].formatted() for r in refs["evidence"])


def test_a_named_approver_and_a_sign_off_are_written_in_the_pages_language(k: Knowledge) -> None:
    signed = replace(k.citations["policy.min_age"], approver="Dr. Ana Ruiz", signed_off=True)
    assert signed.formatted("es").endswith(
        f"(responsable de la aprobación: Dr. Ana Ruiz; {signed.date}; firmada)"
    )
    assert signed.formatted().endswith(f"(approver: Dr. Ana Ruiz; {signed.date}; signed off)")


@pytest.mark.parametrize("lang", LANGS)
def test_no_script_no_inline_style_and_scoped_table_headers(
    pages: dict[str, str], lang: str
) -> None:
    page = Page(pages[lang])
    assert page.scripts == 0
    assert page.style_attrs == []
    assert page.th_without_scope == 0


@pytest.mark.parametrize("lang", LANGS)
def test_headings_go_down_one_level_at_a_time_from_a_single_h1(
    pages: dict[str, str], lang: str
) -> None:
    levels = Page(pages[lang]).headings
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))


@pytest.mark.parametrize("lang", LANGS)
def test_the_crisis_banner_and_resources_are_on_the_page(
    k: Knowledge, pages: dict[str, str], lang: str
) -> None:
    html = pages[lang]
    assert escape(k.docs["resources.toml"]["banner"][lang]) in html
    for r in k.resources:
        assert f'href="{r.contact[lang]}"' in html
        assert escape(r.label[lang]) in html


# --- generated from the knowledge base -------------------------------------------------------


def test_how_it_decides_states_the_policy_numbers_and_every_rule(k: Knowledge) -> None:
    context = education_context(k, "en")
    steps = " ".join(s["text"] for s in context["decides"]["steps"])
    p = k.policy
    assert f"{p.phq9_positive} or more" in steps
    assert f"less than {p.phq2_gate}" in steps
    assert f"{p.min_age} or older" in steps
    assert "Florida and New Jersey" in steps
    assert context["decides"]["missing"]["title"] == "Missing answers are never counted as 0"
    listed = [r["id"] for r in context["decides"]["rules"] + context["safety"]["rules"]]
    assert sorted(listed) == sorted(k.rules)
    assert all(r["id"].startswith("safety.") for r in context["safety"]["rules"])


def test_the_page_follows_a_change_of_service_states(k: Knowledge) -> None:
    changed = k.with_policy(service_states=["NY", "PA", "FL"])
    steps = " ".join(s["text"] for s in education_context(changed, "es")["decides"]["steps"])
    assert "Florida, Nueva York y Pensilvania" in steps  # state names in Spanish


def test_universal_asq_is_said_only_when_switched_on(k: Knowledge) -> None:
    assert education_context(k, "en")["safety"]["universal_asq"] == ""
    on = education_context(k.with_policy(universal_asq=True), "en")["safety"]["universal_asq"]
    assert on == "This program asks the suicide-risk questions of everyone."


def test_safety_section_names_item_9_the_asq_acuity_and_the_alert_deadlines(
    k: Knowledge,
) -> None:
    text = " ".join(p["text"] for p in education_context(k, "en")["safety"]["points"])
    assert "not at all" in text and "ASQ" in text and "right now" in text
    assert "has not been validated" in text
    assert "within 30 minutes" in text and "within 8 hours" in text
    assert "no one will call you" in text


def test_the_education_file_is_complete_and_the_knowledge_check_still_passes(
    k: Knowledge,
) -> None:
    assert problems(k) == []
    assert check(k) == []
    assert k.docs["education.toml"]["copy_status"].startswith("product copy")


def _copy_knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DIRECTORY, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_a_condition_without_an_explanation_is_a_problem(tmp_path: Path) -> None:
    d = _copy_knowledge(tmp_path)
    _edit(d / "education.toml", "[conditions.glaucoma]\n", "[unused.glaucoma]\n")
    assert "education.toml: condition glaucoma has no patient-facing explanation" in problems(
        load_from(d)
    )


def test_an_unknown_citation_or_a_missing_translation_is_a_problem(tmp_path: Path) -> None:
    d = _copy_knowledge(tmp_path)
    _edit(d / "education.toml", 'citations = ["S69b"]', 'citations = ["S999"]')
    _edit(d / "education.toml", ', es = "Ejemplos"', "")
    found = problems(load_from(d))
    assert any("unknown citation 'S999'" in p for p in found), found
    assert "education.toml: medicines.examples: no es text" in found


def test_a_placeholder_that_is_not_a_policy_value_is_a_problem(tmp_path: Path) -> None:
    d = _copy_knowledge(tmp_path)
    _edit(d / "education.toml", "you must be {min_age} or older", "you must be {max_age}")
    assert any("the en page does not render" in p for p in problems(load_from(d)))


# --- the printable result --------------------------------------------------------------------


def _submitted(k: Knowledge, answers: dict[str, Any], lang: str = "en") -> str:
    assessment, token = Assessment.start(lang)
    assessment.answers = answers
    assessment.record(flow.decide(k, answers, lang))
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.save()
    return token


def _candidate(k: Knowledge) -> dict[str, Any]:
    return {
        "profile.state": "FL",
        "profile.age": 40,
        **{f"phq9.{i}": 2 for i in range(1, 9)},
        "phq9.9": 0,
        "burnout.single": 4,
        **{f"asq.{i}": "no" for i in range(1, 6)},
        "gad7.1": 1,
        "gad7.2": 1,
        **{f"medical.{cid}": "no" for cid in k.conditions},
        "medications": ["sertraline"],
        "history.antidepressant_trials": 2,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_the_printable_result_shows_the_result_without_forms(k: Knowledge, lang: str) -> None:
    token = _submitted(k, _candidate(k), lang)
    assert Assessment.by_token(token).eligibility == "candidate"  # type: ignore[union-attr]
    html = _get(Client(), f"/r/{token}/print", lang)
    page = Page(html)
    outcome = k.copy["outcomes"]["burnout_may_have_become_depression"]["title"][lang]
    assert f'<html lang="{lang}">' in html
    assert escape(outcome) in html
    assert escape(k.copy["eligibility"]["candidate"]["next_step"][lang]) in html
    assert escape(k.rules["eligibility.candidate"].summary[lang]) in html
    assert escape(k.citations["S1"].formatted()) in html
    assert page.forms_in_main == 0
    assert page.scripts == 0 and page.style_attrs == []
    assert escape(k.resources[0].label[lang]) in html  # crisis help printed too


POLICY_NAME = {"en": "Program policy — ", "es": "Política del programa — "}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", ["/r/{}/", "/r/{}/print"])
def test_the_result_names_the_program_policy_its_reasons_cite_in_the_persons_language(
    k: Knowledge, lang: str, page: str
) -> None:
    token = _submitted(k, _candidate(k), lang)
    decision = Assessment.by_token(token).decision  # type: ignore[union-attr]
    cited = {c for r in decision["reasons"] for c in r["citations"]}
    policy = sorted(c for c in cited if k.citations[c].type == "policy")
    assert "policy.treatment_resistance_flag" in policy  # two trials without enough relief
    html = _get(Client(), page.format(token), lang)
    other = "es" if lang == "en" else "en"
    for cid in policy:
        assert escape(POLICY_NAME[lang] + k.citations[cid].statement(lang)) in html, cid
        assert escape(k.citations[cid].statement(other)) not in html, cid
    if lang == "es":
        assert "Program policy" not in html
    assert escape(k.citations["S1"].formatted()) in html  # evidence as published
    # The decision keeps its English references: the API and FHIR contracts do not move.
    assert all(decision["sources"][c] == k.citations[c].formatted() for c in policy)


def reference_languages(html: str) -> dict[str, str | None]:
    """Each listed source's id → the lang attribute on its text (None: the page's language)."""
    found = re.findall(
        r'<li id="source-([^"]+)"><strong>[^<]+</strong> — <span(?: lang="([a-z]+)")?>', html
    )
    return {cid: lang or None for cid, lang in found}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", ["/r/{}/", "/r/{}/print", "/learn/"])
def test_an_english_reference_on_a_spanish_page_is_marked_english(
    k: Knowledge, lang: str, page: str
) -> None:
    """Evidence is cited as published, in English: on a Spanish page a screen reader must read
    it with an English voice (WCAG 3.1.2), and Spanish program-policy text in Spanish."""
    html = _get(Client(), page.format(_submitted(k, _candidate(k), lang)), lang)
    listed = reference_languages(html)
    assert "S1" in listed and "policy.treatment_resistance_flag" in listed
    for cid, marked in listed.items():
        shown = k.citations[cid].language(lang)
        assert marked == (None if shown == lang else shown), cid
    if lang == "es":
        assert listed["S1"] == "en"
        assert listed["policy.treatment_resistance_flag"] is None
    else:
        assert set(listed.values()) == {None}


@pytest.mark.django_db
def test_the_printable_result_of_an_acute_screen_is_crisis_help(k: Knowledge) -> None:
    answers = {
        "profile.state": "FL",
        "profile.age": 40,
        "phq9.1": 2,
        "phq9.2": 2,
        "phq9.9": 2,
        **{f"asq.{i}": "no" for i in range(2, 5)},
        "asq.1": "yes",
        "asq.5": "yes",
    }
    token = _submitted(k, answers)
    html = _get(Client(), f"/r/{token}/print", "en")
    assert "Please reach out for help now" in html
    assert 'href="tel:988"' in html
    assert "Why — the answers" not in html
    assert Page(html).forms_in_main == 0


def test_the_stylesheet_hides_navigation_when_printing() -> None:
    css = (Path(__file__).parents[2] / "src/crossline/intake/static/crossline/site.css").read_text()
    education = css[css.index("/* education */") :]
    assert "@media print" in education and "nav.top" in education
