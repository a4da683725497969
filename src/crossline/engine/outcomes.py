"""Course outcomes: PHQ-9 and GAD-7 over time → baseline, response, remission, non-response,
worsening (PRODUCT.md "Outcomes"; FACTS §D2–D3).

Baseline is the earliest measure by date, whatever the input order. Each instrument keeps its
own thresholds (FACTS §D2: never mix them); they are policy values in policy.toml [outcomes], each
citing its source. A value that cannot be known is null, never 0. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crossline.engine.errors import FieldError, InvalidInput
from crossline.engine.knowledge import Knowledge, whole_numbers

INSTRUMENTS = {"phq9": 27, "gad7": 21}  # id -> maximum total
REQUEST_KEYS = frozenset({"measures", "induction_end"})
MEASURE_KEYS = frozenset({"date", "phq9", "gad7"})
MAX_MEASURES = 1000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class OutcomesPolicy:
    """The [outcomes] values of policy.toml."""

    phq9_response_drop_percent: int
    gad7_response_drop_percent: int
    non_response_improvement_below: int
    phq9_remission_below: int
    gad7_remission_below: int
    phq9_worsening_points: int
    gad7_worsening_points: int


def outcomes_policy(k: Knowledge) -> OutcomesPolicy:
    return OutcomesPolicy(**whole_numbers(k, "outcomes", OutcomesPolicy.__annotations__))


@dataclass(frozen=True, slots=True)
class Measure:
    date: date
    scores: dict[str, int]  # instrument id -> total; an instrument not measured is absent


# --- validation -------------------------------------------------------------------------------


def parse_outcomes_request(body: object) -> tuple[list[Measure], date | None]:
    """Validate `{"measures": [{"date", "phq9", "gad7"?}, …], "induction_end": date}`."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("$", "must be a JSON object with a 'measures' list")])
    errors = [FieldError(str(key), "unknown field") for key in body if key not in REQUEST_KEYS]
    end = None
    if body.get("induction_end") is not None:
        end = _date("induction_end", body["induction_end"], errors)
    measures = _measures(body.get("measures"), errors)
    if errors:
        raise InvalidInput(errors)
    return measures, end


def _measures(raw: object, errors: list[FieldError]) -> list[Measure]:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("measures", "must be a non-empty list of measures"))
        return []
    if len(raw) > MAX_MEASURES:
        errors.append(FieldError("measures", f"must list at most {MAX_MEASURES} measures"))
        return []
    out: list[Measure] = []
    seen: dict[date, int] = {}
    for i, m in enumerate(raw):
        where = f"measures[{i}]"
        if not isinstance(m, dict):
            errors.append(FieldError(where, "must be an object with 'date' and 'phq9'"))
            continue
        errors += [
            FieldError(f"{where}.{key}", "unknown field") for key in m if key not in MEASURE_KEYS
        ]
        when = _date(f"{where}.date", m.get("date"), errors)
        scores = {}
        for instrument, top in INSTRUMENTS.items():
            value = m.get(instrument)
            if value is None and instrument != "phq9":
                continue  # the GAD-7 is optional; never counted as 0
            if type(value) is not int or not 0 <= value <= top:
                errors.append(
                    FieldError(f"{where}.{instrument}", f"must be a total from 0 to {top}")
                )
                continue
            scores[instrument] = value
        if when is None:
            continue
        if when in seen:
            # Two measures on one date leave the baseline or the latest ambiguous.
            errors.append(FieldError(f"{where}.date", f"same date as measures[{seen[when]}]"))
            continue
        seen[when] = i
        out.append(Measure(when, scores))
    return out


def _date(field: str, value: object, errors: list[FieldError]) -> date | None:
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(FieldError(field, "must be a date as YYYY-MM-DD"))
    return None


# --- the outcome rules ------------------------------------------------------------------------


def outcomes(k: Knowledge, measures: object, induction_end: object = None) -> dict[str, Any]:
    """Validate JSON-shaped measures (raises InvalidInput) and compute each instrument's outcome."""
    parsed, end = parse_outcomes_request({"measures": measures, "induction_end": induction_end})
    return compute(k, parsed, end)


def outcomes_of_request(k: Knowledge, body: object) -> dict[str, Any]:
    """`outcomes` for a whole request body, as the command line reads it."""
    parsed, end = parse_outcomes_request(body)
    return compute(k, parsed, end)


def compute(k: Knowledge, measures: list[Measure], end: date | None) -> dict[str, Any]:
    p = outcomes_policy(k)
    ordered = sorted(measures, key=lambda m: m.date)
    return {
        "phq9": _instrument(
            ordered, "phq9", p.phq9_remission_below, p.phq9_worsening_points, p, end
        ),
        "gad7": _instrument(
            ordered, "gad7", p.gad7_remission_below, p.gad7_worsening_points, p, end
        ),
    }


def _instrument(
    ordered: list[Measure],
    instrument: str,
    remission_below: int,
    worsening_points: int,
    p: OutcomesPolicy,
    end: date | None,
) -> dict[str, Any]:
    series = [(m.date, m.scores[instrument]) for m in ordered if instrument in m.scores]
    if not series:
        return dict.fromkeys(
            (
                "baseline",
                "latest",
                "percent_change",
                "response",
                "remission",
                "non_response",
                "worsening",
            )
        )
    baseline = series[0][1]
    latest_date, latest = series[-1]
    # From a baseline of 0 no relative change is defined: percent change, response and
    # non-response are null (PRODUCT.md "Outcomes").
    drop = baseline - latest
    defined = baseline > 0
    response_percent = getattr(p, f"{instrument}_response_drop_percent")
    # Non-response is judged at the end of induction: at the latest measure dated on or after
    # induction_end (PRODUCT.md), null before then (FACTS §D3).
    judged = defined and end is not None and latest_date >= end
    return {
        "baseline": baseline,
        "latest": latest,
        "percent_change": _percent(latest - baseline, baseline) if defined else None,
        "response": drop * 100 >= response_percent * baseline if defined else None,
        "remission": latest < remission_below,
        "non_response": drop * 100 < p.non_response_improvement_below * baseline
        if judged
        else None,
        "worsening": latest - baseline >= worsening_points,
    }


def _percent(change: int, baseline: int) -> float:
    """change / baseline × 100, rounded half away from zero to one decimal (exact arithmetic)."""
    value = Decimal(change * 100) / Decimal(baseline)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
