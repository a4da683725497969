"""The weekly questionnaire (crossline.engine.weekly): every item required, never scored from a
partial set, the ASQ asked when PHQ-9 item 9 is above 0, bladder and recovery lines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine.errors import InvalidInput
from crossline.engine.weekly import GAD7, PHQ9, RULES, citations, evaluate_weekly, required_ids
from crossline.knowledge import load

K = load()
ASQ_NO = {"asq.1": "no", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}


def answers(phq: list[int], gad: list[int], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(zip(PHQ9, phq, strict=True))
    out.update(zip(GAD7, gad, strict=True))
    out.update(extra)
    return out


def test_totals_and_no_reasons_when_all_is_well() -> None:
    result = evaluate_weekly(K, answers([1] * 8 + [0], [2] * 7), bladder=False, recovery=False)
    assert (result.phq9, result.gad7, result.safety_level, result.reasons) == (8, 14, "none", ())


def test_item_9_above_0_asks_the_whole_asq_and_raises_the_safety_reason() -> None:
    base = answers([0] * 8 + [1], [0] * 7)
    assert required_ids(base, bladder=False, recovery=False)[-5:] == [*ASQ_NO]
    with pytest.raises(InvalidInput) as caught:
        evaluate_weekly(K, base, bladder=False, recovery=False)
    assert {e.field for e in caught.value.errors} == set(ASQ_NO)
    result = evaluate_weekly(K, {**base, **ASQ_NO}, bladder=False, recovery=False)
    assert result.safety_level == "non_acute"
    assert result.reasons == ("weekly.safety_positive",)


def test_an_asq_answer_is_refused_when_item_9_is_0() -> None:
    with pytest.raises(InvalidInput) as caught:
        evaluate_weekly(K, answers([0] * 9, [0] * 7, **ASQ_NO), bladder=False, recovery=False)
    assert {e.field for e in caught.value.errors} == set(ASQ_NO)


def test_bladder_and_recovery_lines() -> None:
    base = answers([0] * 9, [0] * 7)
    with pytest.raises(InvalidInput) as caught:
        evaluate_weekly(K, base, bladder=True, recovery=True)
    assert [e.field for e in caught.value.errors] == ["course.bladder", "course.recovery"]
    result = evaluate_weekly(
        K,
        {**base, "course.bladder": "yes", "course.recovery": "partly"},
        bladder=True,
        recovery=True,
    )
    assert result.reasons == ("weekly.bladder_symptoms",)
    with pytest.raises(InvalidInput, match=r"course\.recovery"):
        evaluate_weekly(K, {**base, "course.recovery": "often"}, bladder=False, recovery=True)


@pytest.mark.parametrize("bad", [None, 4, -1, "2", True, 1.0])
def test_each_bad_value_names_its_field(bad: object) -> None:
    a = answers([1] * 8 + [0], [1] * 7)
    a["gad7.3"] = bad
    with pytest.raises(InvalidInput) as caught:
        evaluate_weekly(K, a, bladder=False, recovery=False)
    assert [e.field for e in caught.value.errors] == ["gad7.3"]


def test_every_rule_cites_known_sources() -> None:
    for rule in RULES:
        cites = citations(K, rule)
        assert cites, rule
        assert all(c in K.citations for c in cites), rule


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=9, max_size=9),
    st.lists(st.integers(0, 3), min_size=7, max_size=7),
    st.sampled_from(PHQ9 + GAD7),
)
def test_a_missing_item_is_never_scored(phq: list[int], gad: list[int], drop: str) -> None:
    a = answers(phq, gad, **(ASQ_NO if phq[8] > 0 else {}))
    full = evaluate_weekly(K, a, bladder=False, recovery=False)
    assert (full.phq9, full.gad7) == (sum(phq), sum(gad))
    del a[drop]
    with pytest.raises(InvalidInput) as caught:
        evaluate_weekly(K, a, bladder=False, recovery=False)
    assert drop in {e.field for e in caught.value.errors}
