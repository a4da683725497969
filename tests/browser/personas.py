"""The people who take the check in the browser tests: each one's answer to every screen the
flow may show them, by screen id. A screen the flow shows that is not listed fails the walk."""

from __future__ import annotations

from tests.browser.visitor import Answer

# Drained by work, fine on time off: PHQ-2 of 1 settles the depression screen as negative.
BURNED_OUT: dict[str, Answer] = {
    "phq9.1": 0,
    "phq9.2": 1,
    "phq9.9": 0,
    "burnout.single": 4,
    "gad7.1": 1,
    "gad7.2": 1,
    "scope.where": "work",
    "scope.time_off": "lifts",
    "profile.state": "NJ",
    "profile.age": 34,
}

# Depressed (PHQ-9 items 1–4 already sum to 10), burned out, no suicidal thoughts, in Florida,
# none of the medical conditions, two medicines, two antidepressant trials.
_DEPRESSED: dict[str, Answer] = {
    "phq9.1": 3,
    "phq9.2": 3,
    "phq9.9": 0,
    "phq9.3": 2,
    "phq9.4": 2,
    "burnout.single": 3,
    "asq.1": "no",
    "asq.2": "no",
    "asq.3": "no",
    "asq.4": "no",
    "asq.5": "no",
    "gad7.1": 2,
    "gad7.2": 2,
    "profile.age": 41,
}
DEPRESSED_IN_FLORIDA: dict[str, Answer] = {
    **_DEPRESSED,
    "profile.state": "FL",
    "medical": {},  # nothing ticked; "none of the others apply to me" confirmed
    "medications": ["Sertraline 100 mg", "Xanax 0.5 mg"],
    "history.antidepressant_trials": 2,
}
# The same person in Texas, outside the service area: no checklist, medicines or history.
DEPRESSED_IN_TEXAS: dict[str, Answer] = {**_DEPRESSED, "profile.state": "TX"}

# Thoughts of self-harm (item 9), ASQ yes, and "yes" to thoughts of killing themselves right now.
AT_ACUTE_RISK: dict[str, Answer] = {
    "phq9.1": 2,
    "phq9.2": 2,
    "phq9.9": 1,
    "asq.1": "yes",
    "asq.2": "no",
    "asq.3": "yes",
    "asq.4": "no",
    "asq.5": "yes",
}
