"""`crossline checkin` and `crossline outcomes` (issue 5 item 9): the course rules from the
command line, as a real subprocess. Wording is read from the packaged knowledge (product copy
changes through review); 911 and 988 are written out, because they must never silently change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crossline.engine.checkin import checkin
from crossline.engine.outcomes import outcomes_of_request
from tests.cli.support import EXIT_INVALID, KNOWLEDGE, crossline

SAFE_PRE: dict[str, Any] = {
    "vitals.systolic": 128,
    "vitals.diastolic": 82,
    "vitals.pulse": 72,
    "pre.monitor_present": "yes",
    "pre.fasted": "yes",
    "pre.alcohol_today": "no",
    "pre.sedatives_today": "no",
    "pre.stimulants_today": "no",
    "pre.will_drive": "no",
    "pre.new_medications": [],
    "phq9.9": 0,
}
HIGH_BP_PRE = {**SAFE_PRE, "vitals.systolic": 152, "vitals.diastolic": 96}
ITEM9_PRE = {
    **SAFE_PRE,
    "phq9.9": 1,
    **{f"asq.{i}": "no" for i in range(1, 6)},
}
DEEP_SEDATION_POST = {
    "vitals.systolic": 150,
    "vitals.diastolic": 92,
    "post.sedation": 2,
    "post.dissociation": "moderate",
    "post.breathing_problem": "no",
    "post.emergency_symptoms": [],
    "post.minutes_to_baseline": 90,
}
COURSE = {
    "measures": [
        {"date": "2026-02-02", "phq9": 8, "gad7": 6},
        {"date": "2026-01-05", "phq9": 19, "gad7": 14},
        {"date": "2026-01-19", "phq9": 13},
    ],
    "induction_end": "2026-02-01",
}


def write(tmp_path: Path, body: Any) -> Path:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def checkin_copy(action: str, part: str = "title", lang: str = "en") -> str:
    return str(KNOWLEDGE.copy["checkin"][action][part][lang])


# --- checkin --------------------------------------------------------------------------------


def test_json_hold_matches_the_engine_and_has_exactly_the_contract_shape(tmp_path: Path) -> None:
    body = {"kind": "pre", "answers": HIGH_BP_PRE}
    result = crossline("checkin", str(write(tmp_path, body)), "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    decision = json.loads(result.stdout)
    assert set(decision) == {"action", "reasons", "safety"}
    assert decision["action"] == "hold"
    assert decision["reasons"] == [
        {
            "rule": "checkin.pre.bp_high",
            "answers": {"vitals.systolic": 152, "vitals.diastolic": 96},
            "citations": ["policy.checkin_bp_hold", "S43"],
        }
    ]
    assert decision == json.loads(json.dumps(checkin(KNOWLEDGE, body).to_dict()))


def test_stdin_is_read_with_a_dash() -> None:
    body = json.dumps({"kind": "pre", "answers": SAFE_PRE})
    result = crossline("checkin", "-", "--json", stdin=body)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["action"] == "proceed"


def test_readable_hold_says_do_not_take_the_dose_with_rule_ids_and_sources(tmp_path: Path) -> None:
    result = crossline("checkin", str(write(tmp_path, {"kind": "pre", "answers": HIGH_BP_PRE})))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert checkin_copy("hold") in out
    assert "[checkin.pre.bp_high]" in out
    assert KNOWLEDGE.citations["S43"].reference in out
    assert "988" not in out, "no crisis resources without a safety answer"


def test_readable_safety_hold_puts_crisis_resources_first_in_spanish(tmp_path: Path) -> None:
    body = {"kind": "pre", "answers": ITEM9_PRE, "language": "es"}
    result = crossline("checkin", str(write(tmp_path, body)))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    first = out.splitlines()[1]
    assert "988" in first
    assert out.index("tel:911") < out.index(checkin_copy("hold", lang="es"))
    assert "[checkin.pre.safety_positive]" in out


def test_an_emergency_tells_to_call_911_first(tmp_path: Path) -> None:
    body = {"kind": "post", "answers": DEEP_SEDATION_POST}
    result = crossline("checkin", str(write(tmp_path, body)))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"EMERGENCY: {checkin_copy('emergency')}"
    assert "911" in checkin_copy("emergency")
    assert "[checkin.post.sedation_deep]" in result.stdout


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pre", "answers": {**SAFE_PRE, "vitals.systolic": "152"}}, "vitals.systolic"),
        ({"kind": "pre", "answers": {**SAFE_PRE, "vitals.pulse": 400}}, "vitals.pulse"),
        ({"kind": "pre", "answers": {**SAFE_PRE, "asq.1": "no"}}, "asq.1"),
        ({"kind": "post", "answers": {"post.sedation": 9}}, "post.sedation"),
        ({"kind": "during", "answers": {}}, "kind"),
        ({"answers": {}}, "kind"),
    ],
)
def test_invalid_checkin_exits_2_naming_the_field_with_nothing_on_stdout(
    tmp_path: Path, body: Any, field: str
) -> None:
    result = crossline("checkin", str(write(tmp_path, body)), "--json")
    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert f"invalid input: {field}:" in result.stderr


@pytest.mark.parametrize("command", ["checkin", "outcomes"])
def test_not_json_or_a_missing_file_exits_2(tmp_path: Path, command: str) -> None:
    bad = crossline(command, "-", "--json", stdin="{not json")
    assert bad.returncode == EXIT_INVALID
    assert bad.stdout == ""
    assert "invalid input: $:" in bad.stderr
    missing = crossline(command, str(tmp_path / "nope.json"))
    assert missing.returncode == EXIT_INVALID
    assert missing.stdout == ""
    assert "file:" in missing.stderr


# --- outcomes -------------------------------------------------------------------------------


def test_json_outcomes_match_the_engine_from_the_earliest_measure(tmp_path: Path) -> None:
    result = crossline("outcomes", str(write(tmp_path, COURSE)), "--json")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert out == outcomes_of_request(KNOWLEDGE, COURSE)
    assert out["phq9"] == {
        "baseline": 19,
        "latest": 8,
        "percent_change": -57.9,
        "response": True,
        "remission": False,
        "non_response": False,
        "worsening": False,
    }
    assert out["gad7"]["baseline"] == 14
    assert out["gad7"]["latest"] == 6


def test_readable_outcomes_list_each_instrument_and_the_threshold_sources(tmp_path: Path) -> None:
    result = crossline("outcomes", str(write(tmp_path, COURSE)))

    assert result.returncode == 0, result.stderr
    assert "PHQ-9: baseline 19 → latest 8 (-57.9%)" in result.stdout
    assert "response yes" in result.stdout
    assert "GAD-7: baseline 14 → latest 6" in result.stdout
    assert KNOWLEDGE.citations["policy.outcomes_worsening"].reference in result.stdout


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"measures": []}, "measures"),
        ({"measures": [{"date": "2026-1-5", "phq9": 10}]}, "measures[0].date"),
        ({"measures": [{"date": "2026-01-05", "phq9": 28}]}, "measures[0].phq9"),
        ({"measures": [{"date": "2026-01-05", "phq9": 9, "gad7": 22}]}, "measures[0].gad7"),
        (
            {"measures": [{"date": "2026-01-05", "phq9": 9}], "induction_end": "soon"},
            "induction_end",
        ),
    ],
)
def test_invalid_outcomes_exit_2_naming_the_field_with_nothing_on_stdout(
    tmp_path: Path, body: Any, field: str
) -> None:
    result = crossline("outcomes", str(write(tmp_path, body)))
    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    assert f"invalid input: {field}:" in result.stderr
