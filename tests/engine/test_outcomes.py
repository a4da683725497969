"""Course outcomes (PRODUCT.md "Outcomes"; FACTS §D2–D3): baseline = the earliest measure by date,
response ≥ 50% drop, remission latest < 5, non-response < 25% improvement at the end of
induction, worsening ≥ 5 points — each instrument on its own thresholds, nothing missing ever 0.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import InvalidInput
from crossline.engine.outcomes import outcomes, outcomes_of_request, outcomes_policy
from crossline.knowledge import load

KNOWLEDGE = load()
SETTINGS = settings(max_examples=200, deadline=None)
FIELDS = {
    "baseline",
    "latest",
    "percent_change",
    "response",
    "remission",
    "non_response",
    "worsening",
}


def run(measures: list[dict[str, Any]], induction_end: str | None = None) -> dict[str, Any]:
    return outcomes(KNOWLEDGE, measures, induction_end)


def m(day: str, phq9: int, gad7: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"date": day, "phq9": phq9}
    if gad7 is not None:
        out["gad7"] = gad7
    return out


def test_a_course_that_responds_and_remits() -> None:
    result = run(
        [m("2026-01-05", 20, 15), m("2026-01-19", 12, 9), m("2026-02-02", 4, 4)],
        induction_end="2026-02-01",
    )
    assert result == {
        "phq9": {
            "baseline": 20,
            "latest": 4,
            "percent_change": -80.0,
            "response": True,
            "remission": True,
            "non_response": False,
            "worsening": False,
        },
        "gad7": {
            "baseline": 15,
            "latest": 4,
            "percent_change": -73.3,
            "response": True,
            "remission": True,
            "non_response": False,
            "worsening": False,
        },
    }


@pytest.mark.parametrize(
    ("baseline", "latest", "response", "non_response"),
    [
        (20, 10, True, False),  # exactly 50%: response
        (20, 11, False, False),  # 45%
        (20, 15, False, False),  # exactly 25%: not non-response
        (20, 16, False, True),  # 20%: non-response
        (20, 20, False, True),
        (15, 7, True, False),  # 53.3%
        (15, 8, False, False),  # 46.7%
    ],
)
def test_response_and_non_response_edges(
    baseline: int, latest: int, response: bool, non_response: bool
) -> None:
    phq9 = run([m("2026-01-01", baseline), m("2026-02-01", latest)], "2026-02-01")["phq9"]
    assert phq9["response"] is response
    assert phq9["non_response"] is non_response


@pytest.mark.parametrize(("latest", "remission"), [(4, True), (5, False), (0, True)])
def test_remission_is_a_latest_total_below_5(latest: int, remission: bool) -> None:
    assert run([m("2026-01-01", 18), m("2026-02-01", latest)])["phq9"]["remission"] is remission


@pytest.mark.parametrize(("latest", "worsening"), [(14, True), (13, False), (20, True)])
def test_worsening_is_a_rise_of_5_points_or_more(latest: int, worsening: bool) -> None:
    assert run([m("2026-01-01", 9), m("2026-02-01", latest)])["phq9"]["worsening"] is worsening


def test_non_response_is_null_until_a_measure_on_or_after_the_end_of_induction() -> None:
    measures = [m("2026-01-01", 20), m("2026-01-20", 19)]
    assert run(measures, "2026-02-01")["phq9"]["non_response"] is None
    assert run(measures, None)["phq9"]["non_response"] is None
    assert run(measures, "2026-01-20")["phq9"]["non_response"] is True


def test_a_baseline_of_0_leaves_relative_change_null_never_0() -> None:
    phq9 = run([m("2026-01-01", 0), m("2026-02-01", 6)], "2026-01-15")["phq9"]
    assert phq9["percent_change"] is None
    assert phq9["response"] is None
    assert phq9["non_response"] is None
    assert phq9["worsening"] is True
    assert phq9["remission"] is False


def test_a_course_without_gad7_gives_nulls_for_it() -> None:
    result = run([m("2026-01-01", 14), m("2026-01-08", 10)])
    assert set(result["gad7"]) == FIELDS
    assert all(v is None for v in result["gad7"].values())


def test_the_gad7_baseline_is_its_own_earliest_measure() -> None:
    result = run([m("2026-01-01", 20), m("2026-01-08", 16, 12), m("2026-01-15", 10, 6)])
    assert result["phq9"]["baseline"] == 20
    assert result["gad7"]["baseline"] == 12
    assert result["gad7"]["percent_change"] == -50.0


def test_percent_change_rounds_half_away_from_zero_to_one_decimal() -> None:
    # (9 - 8) / 8 × 100 = 12.5; (1 - 8) / 8 × 100 = -87.5; (11 - 16) / 16 × 100 = -31.25
    assert run([m("2026-01-01", 8), m("2026-01-08", 9)])["phq9"]["percent_change"] == 12.5
    assert run([m("2026-01-01", 16), m("2026-01-08", 11)])["phq9"]["percent_change"] == -31.3
    assert run([m("2026-01-01", 3), m("2026-01-08", 1)])["phq9"]["percent_change"] == -66.7


def test_one_measure_is_both_baseline_and_latest() -> None:
    phq9 = run([m("2026-01-01", 12)])["phq9"]
    assert (phq9["baseline"], phq9["latest"], phq9["percent_change"]) == (12, 12, 0.0)
    assert phq9["response"] is False


def test_the_thresholds_are_the_policy_values_and_each_instrument_has_its_own() -> None:
    p = outcomes_policy(KNOWLEDGE)
    assert (p.phq9_response_drop_percent, p.non_response_improvement_below) == (50, 25)
    assert (p.phq9_remission_below, p.phq9_worsening_points) == (5, 5)
    assert (p.gad7_remission_below, p.gad7_worsening_points) == (5, 5)
    cites = KNOWLEDGE.docs["policy.toml"]["outcomes"]["citations"]
    assert "policy.outcomes_gad7_remission" in cites["gad7_remission_below"]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "$"),
        ({}, "measures"),
        ({"measures": []}, "measures"),
        ({"measures": "x"}, "measures"),
        ({"measures": [m("2026-01-01", 5)], "extra": 1}, "extra"),
        ({"measures": [m("2026-01-01", 5)], "induction_end": "2026-13-01"}, "induction_end"),
        ({"measures": [m("2026-01-01", 5)], "induction_end": "20260101"}, "induction_end"),
        ({"measures": [m("2026-01-01", 5)], "induction_end": 20260101}, "induction_end"),
        ({"measures": [5]}, "measures[0]"),
        ({"measures": [{"phq9": 5}]}, "measures[0].date"),
        ({"measures": [m("2026-02-30", 5)]}, "measures[0].date"),
        ({"measures": [m("01/02/2026", 5)]}, "measures[0].date"),
        ({"measures": [{"date": "2026-01-01"}]}, "measures[0].phq9"),
        ({"measures": [m("2026-01-01", 28)]}, "measures[0].phq9"),
        ({"measures": [m("2026-01-01", -1)]}, "measures[0].phq9"),
        ({"measures": [{"date": "2026-01-01", "phq9": "5"}]}, "measures[0].phq9"),
        ({"measures": [{"date": "2026-01-01", "phq9": 5.0}]}, "measures[0].phq9"),
        ({"measures": [{"date": "2026-01-01", "phq9": True}]}, "measures[0].phq9"),
        ({"measures": [m("2026-01-01", 5, 22)]}, "measures[0].gad7"),
        ({"measures": [{**m("2026-01-01", 5), "mood": 3}]}, "measures[0].mood"),
        ({"measures": [m("2026-01-01", 5), m("2026-01-01", 6)]}, "measures[1].date"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        outcomes_of_request(KNOWLEDGE, body)
    assert field in [e.field for e in exc.value.errors]


# --- properties -------------------------------------------------------------------------------


@st.composite
def courses(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 12 measures on distinct days of 2026, in any order, the GAD-7 sometimes absent."""
    days = draw(st.lists(st.integers(0, 364), min_size=1, max_size=12, unique=True))
    out = []
    for d in days:
        measure = m((date(2026, 1, 1) + timedelta(days=d)).isoformat(), draw(st.integers(0, 27)))
        if draw(st.booleans()):
            measure["gad7"] = draw(st.integers(0, 21))
        out.append(measure)
    return out


@SETTINGS
@given(courses(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_input_order(
    measures: list[dict[str, Any]], rnd: Any
) -> None:
    shuffled = list(measures)
    rnd.shuffle(shuffled)
    assert run(shuffled, "2026-03-01") == run(measures, "2026-03-01")


@SETTINGS
@given(courses())
def test_baseline_is_the_earliest_measure_and_response_follows_from_it(
    measures: list[dict[str, Any]],
) -> None:
    ordered = sorted(measures, key=lambda x: x["date"])
    phq9 = run(measures)["phq9"]
    baseline, latest = ordered[0]["phq9"], ordered[-1]["phq9"]
    assert (phq9["baseline"], phq9["latest"]) == (baseline, latest)
    if baseline == 0:
        assert phq9["response"] is None and phq9["percent_change"] is None
    else:
        assert phq9["response"] is (latest <= baseline / 2)
    assert phq9["remission"] is (latest < 5)


@SETTINGS
@given(courses())
def test_percent_change_is_negative_exactly_when_the_score_fell(
    measures: list[dict[str, Any]],
) -> None:
    for instrument in ("phq9", "gad7"):
        r = run(measures)[instrument]
        if r["percent_change"] is None:
            continue
        assert (r["percent_change"] < 0) is (r["latest"] < r["baseline"])
        assert (r["percent_change"] == 0) is (r["latest"] == r["baseline"])
