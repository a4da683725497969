"""`crossline knowledge check` covers the check-in and outcome policy: every value and every
check-in rule cites a known source, the rule table matches the engine, values have their types.

Each broken release is a copy of the packaged knowledge files with one deliberate fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crossline.engine.check import check
from crossline.knowledge import load_from
from tests.engine.test_knowledge_check import copy_knowledge, edit


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    return copy_knowledge(tmp_path)


@pytest.mark.parametrize(
    ("old", "problem"),
    [
        (
            'pre_systolic_above = ["policy.checkin_bp_hold", "S43"]\n',
            "policy [checkin] pre_systolic_above: cites no source",
        ),
        (
            'post_minutes_to_baseline_above = ["policy.checkin_recovery", "S41", "S50"]\n',
            "policy [checkin] post_minutes_to_baseline_above: cites no source",
        ),
        (
            'phq9_worsening_points = ["policy.outcomes_worsening", "Lowe2004"]\n',
            "policy [outcomes] phq9_worsening_points: cites no source",
        ),
    ],
)
def test_a_policy_value_that_loses_its_citation_fails_the_check(
    knowledge_dir: Path, old: str, problem: str
) -> None:
    edit(knowledge_dir / "policy.toml", old, "")
    assert problem in check(load_from(knowledge_dir))


def test_a_policy_value_citing_an_unknown_source_fails_the_check(knowledge_dir: Path) -> None:
    edit(
        knowledge_dir / "policy.toml",
        'pre_pulse_above = ["policy.checkin_pulse_hold"]',
        'pre_pulse_above = ["policy.made_up"]',
    )
    problems = check(load_from(knowledge_dir))
    assert "policy [checkin] pre_pulse_above: unknown citation 'policy.made_up'" in problems


def test_a_check_in_rule_without_citations_fails_the_check(knowledge_dir: Path) -> None:
    edit(
        knowledge_dir / "checkin.toml",
        'citations = ["policy.checkin_pulse_hold"]',
        "citations = []",
    )
    problems = check(load_from(knowledge_dir))
    assert "check-in rule checkin.pre.pulse_high: cites no source" in problems


def test_a_check_in_rule_missing_from_the_table_fails_the_check(knowledge_dir: Path) -> None:
    path = knowledge_dir / "checkin.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('[rules."checkin.post.slow_recovery"]')
    end = text.index("[rules.", start + 1)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = check(load_from(knowledge_dir))
    expected = "check-in rule checkin.post.slow_recovery: evaluated by the engine but missing"
    assert any(p.startswith(expected) for p in problems)


@pytest.mark.parametrize(
    ("path", "old", "new", "problem"),
    [
        (
            "policy.toml",
            "pre_systolic_above = 140 ",
            'pre_systolic_above = "140" ',
            "policy [checkin] pre_systolic_above: must be a whole number, not '140'",
        ),
        (
            "policy.toml",
            'post_dissociation_alert = "severe"',
            'post_dissociation_alert = "extreme"',
            "policy [checkin] post_dissociation_alert: must be one of",
        ),
        (
            "policy.toml",
            "phq9_response_drop_percent = 50 ",
            "phq9_response_drop_percent = 0 ",
            "policy [outcomes] phq9_response_drop_percent: must be a whole number of at least 1",
        ),
    ],
)
def test_a_malformed_policy_value_fails_the_check(
    knowledge_dir: Path, path: str, old: str, new: str, problem: str
) -> None:
    edit(knowledge_dir / path, old, new)
    problems = check(load_from(knowledge_dir))
    assert any(p.startswith(problem) for p in problems), problems


def test_course_alert_reasons_are_checked(knowledge_dir: Path) -> None:
    path = knowledge_dir / "checkin.toml"
    edit(path, 'citations = ["policy.outcomes_non_response"]', 'citations = ["policy.nope"]')
    edit(
        path,
        'es = "Se informaron síntomas de vejiga o urinarios nuevos o peores." }',
        'es = "" }',
    )
    problems = check(load_from(knowledge_dir))
    assert "course alert reason weekly.non_response: unknown citation 'policy.nope'" in problems
    assert any(
        p.startswith("course alert reason weekly.bladder_symptoms summary") for p in problems
    )
