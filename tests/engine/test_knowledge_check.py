"""The knowledge release checks (`crossline knowledge check`) and the knowledge version.

Each broken release is built from a copy of the packaged knowledge files with one deliberate
fault: a fake at the edge (a directory on disk), not a patched loader.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from crossline.engine import Knowledge, KnowledgeError, PolicyError
from crossline.engine.check import check
from crossline.knowledge import DIRECTORY, load, load_from


def copy_knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    target.mkdir()
    for path in DIRECTORY.glob("*.toml"):
        shutil.copy(path, target / path.name)
    shutil.copytree(DIRECTORY / "instruments", target / "instruments")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    return copy_knowledge(tmp_path)


def test_the_packaged_knowledge_passes_every_release_check(knowledge: Knowledge) -> None:
    assert check(knowledge) == []


def test_an_unchanged_copy_loads_with_the_same_version(
    knowledge: Knowledge, knowledge_dir: Path
) -> None:
    copy = load_from(knowledge_dir)
    assert copy.version == knowledge.version
    assert check(copy) == []


def test_a_rule_without_citations_is_reported(knowledge_dir: Path) -> None:
    edit(
        knowledge_dir / "rules.toml",
        'citations = ["policy.bp_reading_review", "S43"]',
        "citations = []",
    )
    assert check(load_from(knowledge_dir)) == ["rule review.bp_reading: cites no source"]


def test_a_rule_citing_an_unknown_source_is_reported(knowledge_dir: Path) -> None:
    edit(
        knowledge_dir / "rules.toml",
        'citations = ["policy.bp_reading_review", "S43"]',
        'citations = ["policy.bp_reading_review", "S999"]',
    )
    problems = check(load_from(knowledge_dir))
    assert problems == ["rule review.bp_reading: unknown citation 'S999'"]


def set_in_section(path: Path, section: str, key: str, line: str) -> None:
    """Replace (or, with line "", delete) the `key = …` line of one TOML section."""
    text = path.read_text()
    start = text.index(section)
    at = text.index(f"\n{key} = ", start) + 1
    end = text.index("\n", at) + 1
    path.write_text(text[:at] + (line + "\n" if line else "") + text[end:])


def test_a_program_policy_citation_without_an_approver_is_reported(knowledge_dir: Path) -> None:
    citations = knowledge_dir / "citations.toml"
    set_in_section(citations, "[policy.bp_reading_review]", "approver", "")
    problems = check(load_from(knowledge_dir))
    assert problems == ["citation policy.bp_reading_review: program policy without an approver"]


def test_a_program_policy_citation_without_an_iso_date_is_reported(knowledge_dir: Path) -> None:
    set_in_section(knowledge_dir / "citations.toml", "[policy.min_age]", "date", 'date = "soon"')
    problems = check(load_from(knowledge_dir))
    assert problems == ["citation policy.min_age: program policy without an ISO date"]


def test_program_policy_a_patient_page_cites_without_a_spanish_text_is_reported(
    knowledge_dir: Path,
) -> None:
    # policy.maoi_home is cited by medications.toml: the result page lists it in Spanish too.
    set_in_section(knowledge_dir / "citations.toml", "[policy.maoi_home]", "text_es", "")
    problems = check(load_from(knowledge_dir))
    assert problems == [
        "citation policy.maoi_home: program policy a patient page cites, without text_es"
    ]


@pytest.mark.parametrize(
    ("field", "line", "opening"),
    [
        ("text_es", 'text_es = "Política: solo adultos (edad ≥ 18)."', "Política del programa: "),
        ("text_es", 'text_es = "Program policy: adults only."', "Política del programa: "),
        ("text", 'text = "Policy: adults only (age ≥ 18)."', "Program policy: "),
    ],
)
def test_a_program_policy_text_without_its_languages_opening_is_reported(
    knowledge_dir: Path, field: str, line: str, opening: str
) -> None:
    set_in_section(knowledge_dir / "citations.toml", "[policy.min_age]", field, line)
    problems = check(load_from(knowledge_dir))
    assert problems == [f"citation policy.min_age: {field} must open {opening!r}"]


def test_a_spanish_text_on_evidence_is_reported(knowledge_dir: Path) -> None:
    # Evidence is cited as published (a title stays in its own language).
    edit(
        knowledge_dir / "citations.toml",
        '[PHQ-es-USA]\ntype = "web"\n',
        '[PHQ-es-USA]\ntype = "web"\ntext_es = "Formularios del PHQ-9."\n',
    )
    problems = check(load_from(knowledge_dir))
    assert problems == ["citation PHQ-es-USA: text_es is for program policy only"]


def test_staff_only_program_policy_may_ship_without_a_spanish_text(knowledge: Knowledge) -> None:
    # policy.adequate_trial is cited only by the evaluation form (staff pages, in English).
    assert knowledge.citations["policy.adequate_trial"].text_es is None
    assert check(knowledge) == []


def test_a_policy_value_without_citations_is_reported(knowledge_dir: Path) -> None:
    set_in_section(knowledge_dir / "policy.toml", "[citations]", "trd_trials_flag", "")
    assert check(load_from(knowledge_dir)) == ["policy value trd_trials_flag: cites no source"]


def test_a_wrong_difficulty_loinc_code_is_reported(knowledge_dir: Path) -> None:
    # The trap: swapping "Very" and "Extremely difficult" codes must never ship.
    edit(
        knowledge_dir / "instruments" / "phq9.toml",
        '{ value = 2, loinc = "LA6575-0"',
        '{ value = 2, loinc = "LA6574-3"',
    )
    problems = check(load_from(knowledge_dir))
    assert "item phq9.difficulty option 2: LOINC LA6574-3, must be LA6575-0" in problems


def test_a_medication_class_whose_effect_contradicts_its_severity_is_reported(
    knowledge_dir: Path,
) -> None:
    edit(
        knowledge_dir / "medications.toml",
        'severity = "avoid"\neffect = "exclude"\ncitations = ["S34"]',
        'severity = "avoid"\neffect = "review"\ncitations = ["S34"]',
    )
    problems = check(load_from(knowledge_dir))
    assert problems == ["medication class theophylline: severity avoid with effect review"]


def test_a_missing_contract_condition_is_reported(knowledge_dir: Path) -> None:
    path = knowledge_dir / "contraindications.toml"
    text = path.read_text()
    start = text.index("[conditions.hyperthyroid]")
    path.write_text(text[:start])
    problems = check(load_from(knowledge_dir))
    assert "contraindications: conditions differ from the contract: ['hyperthyroid']" in problems


def test_a_duplicate_medication_name_fails_to_load(knowledge_dir: Path) -> None:
    edit(
        knowledge_dir / "medications.toml",
        '"theophylline", "aminophylline",',
        '"theophylline", "aminophylline", "xanax",',
    )
    with pytest.raises(KnowledgeError) as exc:
        load_from(knowledge_dir)
    assert any("duplicate medication name 'xanax'" in p for p in exc.value.problems)


def test_a_medication_name_that_is_not_normalised_fails_to_load(knowledge_dir: Path) -> None:
    edit(knowledge_dir / "medications.toml", '"uniphyl",', '"Uniphyl",')
    with pytest.raises(KnowledgeError, match="not normalised"):
        load_from(knowledge_dir)


def test_a_malformed_knowledge_file_fails_to_load(knowledge_dir: Path) -> None:
    (knowledge_dir / "resources.toml").write_text('copy_status = "x"\n')
    with pytest.raises(KnowledgeError, match="malformed knowledge"):
        load_from(knowledge_dir)


EDITS: dict[str, Callable[[Path], None]] = {
    "a comment in rules.toml": lambda d: (d / "rules.toml").write_text(
        (d / "rules.toml").read_text() + "\n# reviewed\n"
    ),
    "a threshold in policy.toml": lambda d: edit(
        d / "policy.toml", "bp_review_systolic = 140", "bp_review_systolic = 139"
    ),
    "an instrument file": lambda d: edit(
        d / "instruments" / "asq.toml", "Prefiero no contestar", "Prefiero no responder"
    ),
    "a Spanish policy text": lambda d: edit(
        d / "citations.toml", "solo adultos (edad", "solamente adultos (edad"
    ),
    "a new file": lambda d: (d / "extra.toml").write_text("x = 1\n"),
}


@pytest.mark.parametrize("change", EDITS.values(), ids=list(EDITS))
def test_the_knowledge_version_changes_when_any_file_changes(
    knowledge: Knowledge, knowledge_dir: Path, change: Callable[[Path], None]
) -> None:
    change(knowledge_dir)
    assert load_from(knowledge_dir).version != knowledge.version


def test_the_knowledge_version_is_stable_across_loads(knowledge: Knowledge) -> None:
    assert load_from(DIRECTORY).version == knowledge.version == load().version


# --- operator policy: stricter only, hard floors hold ---------------------------------------------


def test_operators_may_switch_universal_asq_on_but_not_off(knowledge: Knowledge) -> None:
    on = knowledge.with_policy(universal_asq=True)
    assert on.policy.universal_asq is True
    with pytest.raises(PolicyError):
        on.with_policy(universal_asq=False)


@pytest.mark.parametrize(
    "change", [{"min_age": 16}, {"phq9_positive": 5}, {"bp_review_systolic": 160}]
)
def test_clinical_thresholds_are_not_operator_editable(
    knowledge: Knowledge, change: dict[str, int]
) -> None:
    with pytest.raises(PolicyError, match="not editable"):
        knowledge.with_policy(**change)


def test_service_states_must_be_us_states_and_are_case_insensitive(knowledge: Knowledge) -> None:
    assert knowledge.with_policy(service_states=["tx", "ny"]).policy.service_states == {"TX", "NY"}
    with pytest.raises(PolicyError, match="service_states"):
        knowledge.with_policy(service_states=["XX"])


def test_changing_policy_leaves_the_original_knowledge_untouched(knowledge: Knowledge) -> None:
    knowledge.with_policy(service_states=["TX"], universal_asq=True)
    assert knowledge.policy.service_states == {"FL", "NJ"}
    assert knowledge.policy.universal_asq is False


@pytest.mark.parametrize("off", [0, None, ""])
def test_universal_asq_cannot_be_switched_off_by_any_falsy_value(
    knowledge: Knowledge, off: object
) -> None:
    on = knowledge.with_policy(universal_asq=True)
    with pytest.raises(PolicyError):
        on.with_policy(universal_asq=off)


def test_a_service_state_that_is_not_a_string_is_a_policy_error(knowledge: Knowledge) -> None:
    with pytest.raises(PolicyError):
        knowledge.with_policy(service_states=[12])


def test_a_negative_alert_deadline_is_a_policy_error(knowledge: Knowledge) -> None:
    with pytest.raises(PolicyError):
        knowledge.with_policy(alert_deadline_acute_minutes=-5)
