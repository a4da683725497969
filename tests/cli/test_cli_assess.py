"""`crossline assess`: a JSON answers file in, a decision out (PRODUCT.md, "Command line")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import (
    DEPRESSED_CANDIDATE,
    EXIT_INVALID,
    FEW_SYMPTOMS,
    ITEM9_NON_ACUTE,
    KNOWLEDGE,
    crossline,
    eligibility_title,
    expected_decision,
    outcome_title,
    request,
    write_request,
)

CONTRACT_FIELDS = {
    "eligibility",
    "triage",
    "burnout",
    "safety",
    "scores",
    "reasons",
    "sources",
    "flags",
    "missing",
    "items_asked",
    "engine_version",
    "knowledge_version",
    "policy_version",
}
SCORE_NAMES = {"phq2", "phq9", "gad2", "gad7", "burnout_single"}
EFFECTS = {"route", "exclude", "review", "safety", "note"}


# --- a decision -----------------------------------------------------------------------------


def test_json_decision_carries_every_contract_field(tmp_path: Path) -> None:
    result = crossline("assess", str(write_request(tmp_path, DEPRESSED_CANDIDATE)), "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    decision = json.loads(result.stdout)
    assert decision.keys() >= CONTRACT_FIELDS
    assert set(decision["safety"]) >= {"level", "crisis_resources", "resources"}
    assert set(decision["scores"]) == SCORE_NAMES
    for s in decision["scores"].values():
        assert set(s) == {"total", "band", "complete"}
    assert decision["reasons"], "every result says why"
    for reason in decision["reasons"]:
        assert set(reason) >= {"rule", "effect", "answers", "citations"}
        assert reason["effect"] in EFFECTS
        assert isinstance(reason["answers"], dict)
        assert reason["citations"], f"{reason['rule']} cites no source"
        assert set(reason["citations"]) <= decision["sources"].keys()
    for flag in decision["flags"]:
        assert set(flag) >= {"rule", "message"} and flag["message"]
    assert isinstance(decision["missing"], list)
    assert decision["knowledge_version"] == KNOWLEDGE.version
    assert decision == expected_decision(request(DEPRESSED_CANDIDATE))
    assert decision["eligibility"] == "candidate"


def test_dash_reads_the_request_from_standard_input() -> None:
    body = request(DEPRESSED_CANDIDATE)

    result = crossline("assess", "-", "--json", stdin=json.dumps(body))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected_decision(body)


def test_readable_decision_shows_outcome_reasons_with_rule_and_citation_ids_and_sources(
    tmp_path: Path,
) -> None:
    decision = expected_decision(request(DEPRESSED_CANDIDATE))

    result = crossline("assess", str(write_request(tmp_path, DEPRESSED_CANDIDATE)))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Result: {outcome_title(decision['outcome'])}" in out
    assert f"{eligibility_title('candidate')} [candidate]" in out
    for reason in decision["reasons"]:
        line = next(x for x in out.splitlines() if f"[{reason['rule']} · {reason['effect']}]" in x)
        assert line.endswith(" · " + ", ".join(reason["citations"]))
    sources = out[out.index("Sources:") :]
    for cid, reference in decision["sources"].items():
        assert f"[{cid}] {reference}" in sources
    assert "Crisis help" not in out


def test_safety_positive_decision_prints_the_crisis_resources_before_the_result(
    tmp_path: Path,
) -> None:
    result = crossline("assess", str(write_request(tmp_path, ITEM9_NON_ACUTE)))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    crisis, result_at = out.index("Crisis help — now"), out.index("Result:")
    assert crisis < result_at
    assert "988" in out[crisis:result_at]
    for resource in KNOWLEDGE.resources:
        assert resource.label["en"] in out[crisis:result_at]


def test_spanish_request_prints_spanish_text(tmp_path: Path) -> None:
    result = crossline("assess", str(write_request(tmp_path, ITEM9_NON_ACUTE, language="es")))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("!! Ayuda en crisis — ahora")
    assert f"Resultado: {outcome_title('few_signs', 'es')}" in out
    assert eligibility_title("not_indicated", "es") in out
    assert KNOWLEDGE.rules["screen.depression_negative"].summary["es"] in out
    assert "Por qué:" in out and "Fuentes:" in out
    assert outcome_title("few_signs", "en") not in out


# --- invalid input: exit 2, nothing on standard output, the field named ----------------------

INVALID = {
    "unknown id": ('{"answers": {"phq9.10": 1}}', "phq9.10"),
    "out of range": ('{"answers": {"phq9.1": 4}}', "phq9.1"),
    "integer as a string": ('{"answers": {"profile.age": "34"}}', "profile.age"),
    "boolean for an integer": ('{"answers": {"phq9.1": true}}', "phq9.1"),
    "unknown state": ('{"answers": {"profile.state": "XX"}}', "profile.state"),
    "not JSON at all": ("phq9.1 = 3", "$"),
    "no answers": ('{"language": "en"}', "answers"),
    "unsupported language": ('{"answers": {}, "language": "fr"}', "language"),
}


@pytest.mark.parametrize(("text", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_exits_2_with_the_field_on_stderr_and_nothing_on_stdout(
    tmp_path: Path, text: str, field: str
) -> None:
    path = tmp_path / "request.json"
    path.write_text(text, encoding="utf-8")

    result = crossline("assess", str(path), "--json")

    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert f" {field}: " in result.stderr


def test_a_file_that_does_not_exist_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-answers.json"

    result = crossline("assess", str(missing))

    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert "file:" in result.stderr and "no-such-answers.json" in result.stderr


def test_a_file_that_is_not_utf8_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"answers": {"profile.state": "Señorita"}}'.encode("latin-1"))

    result = crossline("assess", str(path))

    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_deeply_nested_json_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"answers": ' + "[" * 100_000, encoding="utf-8")

    result = crossline("assess", str(path))

    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert " $: " in result.stderr


# --- batch ----------------------------------------------------------------------------------


def test_batch_puts_an_error_in_place_of_an_invalid_line_and_exits_2(tmp_path: Path) -> None:
    first, third = request(FEW_SYMPTOMS), request(DEPRESSED_CANDIDATE, language="es")
    lines = [json.dumps(first), '{"answers": {"phq9.1": 4}}', json.dumps(third)]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = crossline("assess", "--batch", str(path))

    assert result.returncode == EXIT_INVALID
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0] == expected_decision(first)
    assert out[2] == expected_decision(third)
    error = out[1]["error"]
    assert set(out[1]) == {"error"}
    assert set(error) == {"line", "field", "message"}
    assert error["line"] == 2 and error["field"] == "phq9.1" and error["message"]


def test_an_all_valid_batch_exits_0_and_skips_blank_lines() -> None:
    bodies = [request(FEW_SYMPTOMS), request(ITEM9_NON_ACUTE)]
    text = "\n" + json.dumps(bodies[0]) + "\n\n   \n" + json.dumps(bodies[1]) + "\n\n"

    result = crossline("assess", "--batch", "-", stdin=text)

    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out == [expected_decision(b) for b in bodies]
