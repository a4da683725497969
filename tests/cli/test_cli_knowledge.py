"""`crossline knowledge check` and `show`: the release gate and the clinical reviewer's listing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import KNOWLEDGE, copy_knowledge, crossline, edit_key_in_table

# --- check ----------------------------------------------------------------------------------


def test_check_passes_the_packaged_knowledge() -> None:
    result = crossline("knowledge", "check")

    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert KNOWLEDGE.version in result.stdout


def test_check_fails_a_rule_that_lost_its_citations(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_key_in_table(
        directory / "rules.toml", 'rules."review.bp_reading"', "citations", "citations = []"
    )

    result = crossline("knowledge", "check", "--directory", str(directory))

    assert result.returncode == 1
    assert "review.bp_reading" in result.stderr
    assert "OK" not in result.stdout


def test_check_fails_a_policy_citation_without_an_approver(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_key_in_table(directory / "citations.toml", "policy.service_area", "approver", None)

    result = crossline("knowledge", "check", "--directory", str(directory))

    assert result.returncode == 1
    assert "policy.service_area" in result.stderr and "approver" in result.stderr


def test_check_fails_knowledge_that_cannot_make_the_fhir_questionnaire(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit_key_in_table(directory / "copy.toml", "questions.medications", "none", None)

    result = crossline("knowledge", "check", "--directory", str(directory))

    assert result.returncode == 1
    assert "FHIR Questionnaire (en): KeyError: 'none'" in result.stderr


def test_check_names_a_file_with_a_syntax_error(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    with (directory / "rules.toml").open("a", encoding="utf-8") as fh:
        fh.write("broken = [\n")

    result = crossline("knowledge", "check", "--directory", str(directory))

    assert result.returncode == 1
    assert "rules.toml" in result.stderr
    assert "Traceback" not in result.stderr


# --- show -----------------------------------------------------------------------------------


def test_show_lists_phq9_items_with_loinc_codes_medication_names_and_citations() -> None:
    result = crossline("knowledge", "show")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for n in range(1, 10):
        item = KNOWLEDGE.items[f"phq9.{n}"]
        assert item.loinc, f"phq9.{n} has no LOINC code"
        assert f"   phq9.{n} [LOINC {item.loinc}]: {item.text['en']}" in lines
    for med in KNOWLEDGE.medication_classes.values():
        assert any(x.startswith(f"   {med.id} [{med.severity} → {med.effect}]") for x in lines)
    names = next(x for x in lines if x.strip().startswith("names:") and "alprazolam" in x)
    assert "xanax" in names
    cited = result.stdout[result.stdout.index("== Citations") :]
    for cid, citation in KNOWLEDGE.citations.items():
        assert f"[{cid}] {citation.formatted()}" in cited


def test_show_in_spanish_gives_spanish_item_text() -> None:
    result = crossline("knowledge", "show", "--language", "es")

    assert result.returncode == 0, result.stderr
    item = KNOWLEDGE.items["phq9.1"]
    assert f"phq9.1 [LOINC {item.loinc}]: {item.text['es']}" in result.stdout
    assert item.text["en"] not in result.stdout
    assert "language es" in result.stdout.splitlines()[0]
