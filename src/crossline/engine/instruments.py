"""Scoring, bands and completeness — and the two screens built on them.

Missing answers are never counted as 0: an instrument with a missing item is incomplete, with
total and band None. The screens reason only about what the given answers make certain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossline.engine.knowledge import Policy, Scale
from crossline.engine.knowledge import Score as Score  # defined with Scale, which holds its table

# The scores every decision reports, in this order (one visible table).
REPORTED_SCALES = ("phq2", "phq9", "gad2", "gad7", "burnout")
SCORE_NAMES = {"burnout": "burnout_single"}
PHQ9_ITEMS = tuple(f"phq9.{i}" for i in range(1, 10))
PHQ_ITEM_MAX = 3
ASQ_ITEMS = ("asq.1", "asq.2", "asq.3", "asq.4")
ASQ_ACUITY = "asq.5"
ASQ_POSITIVE = frozenset({"yes", "refused"})


INCOMPLETE = Score(None, None, False)


def score(scale: Scale, answers: Mapping[str, Any]) -> Score:
    total = 0
    get = answers.get
    for item in scale.items:
        value = get(item)
        if value is None:
            return INCOMPLETE
        total += value
    table = scale.scores
    if type(total) is int and 0 <= total < len(table):
        return table[total]  # == Score(total, scale.band(total), True), built once
    return Score(total, scale.band(total), True)


def depression_screen(answers: Mapping[str, Any], policy: Policy) -> str:
    """positive / negative / undetermined, in PRODUCT.md's order (FACTS §A1–A2).

    Positive as soon as the answered items reach the cut-off (more answers can only add);
    negative when nothing left unanswered could reach it, or when the PHQ-2 is below the gate
    and the PHQ-9 is otherwise incomplete (the validated two-step screen).
    """
    answered = 0
    unanswered = 0
    get = answers.get
    for item in PHQ9_ITEMS:
        value = get(item)
        if value is None:
            unanswered += 1
        else:
            answered += value
    return screen_of(answered, unanswered, get("phq9.1"), get("phq9.2"), policy)


def screen_of(answered: int, unanswered: int, q1: Any, q2: Any, policy: Policy) -> str:
    """`depression_screen` from its parts: the sum of the answered PHQ-9 items, how many of the
    nine are unanswered, and items 1 and 2 (None when unanswered). The flow keeps these parts
    up to date as it asks, instead of rescanning the answers after every question."""
    cut = policy.phq9_positive
    if answered >= cut:
        return "positive"
    if unanswered == 0 or answered + PHQ_ITEM_MAX * unanswered < cut:
        return "negative"
    if q1 is not None and q2 is not None and q1 + q2 < policy.phq2_gate:
        return "negative"
    return "undetermined"


def safety_screen_positive(answers: Mapping[str, Any]) -> bool:
    """PHQ-9 item 9 above 0, or any ASQ item 1–4 yes or refused (FACTS §A4b, §F2)."""
    get = answers.get
    item9 = get("phq9.9")
    if item9 is not None and item9 > 0:
        return True
    for i in ASQ_ITEMS:  # noqa: SIM110 - a plain loop: any() and a generator cost more here
        if get(i) in ASQ_POSITIVE:
            return True
    return False


def shows_risk(answers: Mapping[str, Any]) -> bool:
    """Whether the crisis resources must appear at once: a positive safety screen, or the ASQ's
    acuity question answered yes or refused (PRODUCT.md; FACTS §A4b, §F2)."""
    return safety_screen_positive(answers) or answers.get(ASQ_ACUITY) in ASQ_POSITIVE


def safety_level(answers: Mapping[str, Any]) -> str:
    """acute / non_acute / none. Unknown acuity on a positive screen is treated as acute."""
    acuity = answers.get(ASQ_ACUITY)
    if acuity in ASQ_POSITIVE:
        return "acute"
    if not safety_screen_positive(answers):
        return "none"
    return "non_acute" if acuity == "no" else "acute"


def burnout_present(answers: Mapping[str, Any], policy: Policy) -> bool | None:
    value = answers.get("burnout.single")
    return None if value is None else value >= policy.burnout_present


def score_of_total(scale: Scale, total: Any) -> Score:
    """The complete score for a known sum of all the scale's items (what `score` returns when
    every item is answered and they add up to `total`)."""
    table = scale.scores
    if type(total) is int and 0 <= total < len(table):
        return table[total]
    return Score(total, scale.band(total), True)
