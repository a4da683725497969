"""The program's view of its courses: how many in each state, and response and remission so far.

Aggregates only: the page shows counts and rates, never a patient. Rates are over the courses
whose outcome is defined (PHQ-9 and GAD-7 kept apart, FACTS §D2): a course with fewer than two
weekly questionnaires has no change yet and is counted as "not yet measured", never as a
non-responder; a baseline of 0 leaves response undefined (the engine's null), so it is left out
of the response denominator.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from crossline.engine import course as rules
from crossline.engine.knowledge import Knowledge
from crossline.engine.outcomes import INSTRUMENTS, Measure, compute

FLAGS = ("response", "remission", "non_response", "worsening")


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.of, 1) if self.of else None


def summarise(
    k: Knowledge,
    statuses: Iterable[str],
    series: Mapping[Any, list[Measure]],
    induction_end: Mapping[Any, date],
) -> dict[str, Any]:
    """`statuses`: every course's state; `series`: each course's weekly measures (by course);
    `induction_end`: each course's planned re-evaluation date."""
    states = rules.summarise_states(Counter(statuses))
    rates: dict[str, dict[str, Rate]] = {}
    measured: dict[str, int] = {}
    for instrument in INSTRUMENTS:
        tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        n = 0
        for course, measures in series.items():
            points = [m for m in measures if instrument in m.scores]
            if len(points) < 2:
                continue
            n += 1
            outcome = compute(k, points, induction_end.get(course))[instrument]
            for flag in FLAGS:
                if outcome[flag] is not None:
                    tallies[flag][1] += 1
                    tallies[flag][0] += bool(outcome[flag])
        measured[instrument] = n
        rates[instrument] = {f: Rate(*tallies[f]) for f in FLAGS}
    return {
        "states": states,
        "total": sum(states.values()),
        "measured": measured,
        "rates": rates,
    }
