"""Answer sets the web tests share (complete, as the adaptive flow would have asked them)."""

from __future__ import annotations

from typing import Any

from crossline.knowledge import load


def no_conditions() -> dict[str, str]:
    return {f"medical.{c}": "no" for c in load().conditions}


# A depressed adult in Florida, no risk, no exclusions: a candidate.
CANDIDATE: dict[str, Any] = {
    "profile.state": "FL",
    "profile.age": 34,
    **{f"phq9.{i}": v for i, v in enumerate((2, 2, 2, 2, 1, 1, 1, 1, 0), start=1)},
    "burnout.single": 4,
    **{f"asq.{i}": "no" for i in range(1, 6)},
    "gad7.1": 1,
    "gad7.2": 1,
    **no_conditions(),
    "medications": ["sertraline 50 mg daily"],
    "history.antidepressant_trials": 1,
}
BURNOUT_ONLY = {
    "profile.state": "FL",
    "profile.age": 41,
    "phq9.1": 1,
    "phq9.2": 0,
    "phq9.9": 0,
    "burnout.single": 4,
    "gad7.1": 1,
    "gad7.2": 1,
    "scope.where": "work",
    "scope.time_off": "lifts",
}
