"""Answer sets for the operations tests, complete for every screen the flow could ask them."""

from __future__ import annotations

from typing import Any

from crossline.knowledge import load

CONDITIONS = list(load().conditions)

# Few symptoms, in Florida: the short path (PHQ-2 below the gate), not indicated.
FEW_SYMPTOMS: dict[str, Any] = {
    "profile.state": "FL",
    "profile.age": 34,
    **{f"phq9.{i}": 0 for i in range(1, 10)},
    "phq9.2": 1,
    "burnout.single": 2,
    "gad7.1": 0,
    "gad7.2": 0,
    "scope.where": "work",
    "scope.time_off": "lifts",
}

# A depressed adult of 73 in New Jersey, no thoughts of self-harm, taking a medicine no one has
# heard of: a candidate with review flags (age ≥ 65, unrecognised medicine). The medicine's name
# is distinctive so that a grep of the logs finds it if it leaks anywhere.
DISTINCTIVE_MEDICINE = "Zyxolamine-Q7 Teststring"
OLDER_CANDIDATE: dict[str, Any] = {
    "profile.state": "NJ",
    "profile.age": 73,
    **{f"phq9.{i}": 2 for i in range(1, 9)},
    "phq9.9": 0,
    "burnout.single": 4,
    **{f"asq.{i}": "no" for i in range(1, 6)},
    "gad7.1": 2,
    "gad7.2": 1,
    "scope.where": "most_areas",
    "scope.time_off": "persists",
    **{f"medical.{c}": "no" for c in CONDITIONS},
    "medications": [DISTINCTIVE_MEDICINE],
    "history.antidepressant_trials": 2,
}
