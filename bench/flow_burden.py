"""Flow burden: how long the adaptive flow takes, and whether its answers decide as the full
battery does (PRODUCT.md "What the eligibility flow asks", "Quality bar").

For each synthetic applicant (bench/population.py) with a FULL answer set:

* full  = evaluate(k, every answer)
* short = evaluate(k, only the answers the flow asks: `taken(k, full).asked`, the flow walked
          one step at a time, each step answered from the full set)
* time  = taken(k, full).seconds (5 s a question, 1.5 s a checklist line, 10 s for medicines)

Reported per policy variant (default; universal ASQ): time (median, p90, mean), questions,
agreement of the routing decision (eligibility, safety level, depression_likely, burnout),
safety-level reproduction, exclusion reproduction, wrong candidates, and every disagreement
grouped by cause with an example. Exit 1 when a hard goal fails: a short-form `candidate` where
the full battery is not a candidate, or a full-battery `not_candidate` that the short form would
route towards an evaluation (`candidate` or `incomplete`).

    .venv/bin/python bench/flow_burden.py [--n 20000] [--seed 20261128]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crossline.engine import Decision, Knowledge, evaluate, next_step, parse_answers, walk
from crossline.engine.flow import Walk
from crossline.engine.instruments import ASQ_ITEMS, ASQ_POSITIVE, depression_screen
from crossline.knowledge import load
from population import Applicant, describe, generate

OUT = Path(__file__).parent / "out" / "flow_burden.json"
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "universal_asq": {"universal_asq": True},
}
GOAL_MEDIAN_S = 80.0
PRODUCT_MEDIAN_S = 75.0
GOAL_P90_S = 150.0
GOAL_AGREEMENT = 97.0
ROUTING_FIELDS = ("eligibility", "safety_level", "depression_likely", "burnout")
MAX_EXAMPLES = 2


def taken(k: Knowledge, full: Mapping[str, Any]) -> Walk:
    """The flow as a person takes it: one step at a time, each answered from `full`. Not
    `walk(k, full)`: a risk already told on the ASQ brings the ASQ (the flow's safety
    exception), and a whole answer set holds ASQ answers this person was never asked."""
    known: dict[str, Any] = {}
    while (step := next_step(k, known)) is not None and all(i in full for i in step.ids):
        for i in step.ids:
            known[i] = full[i]
    return walk(k, known)


def routing(d: Decision) -> dict[str, Any]:
    return {
        "eligibility": d.eligibility,
        "safety_level": d.safety_level,
        "depression_likely": d.triage == "depression_likely",
        "burnout": d.burnout,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _asq_positive(answers: Mapping[str, Any], items: Sequence[str]) -> list[str]:
    return [i for i in items if answers.get(i) in ASQ_POSITIVE]


def cause_of(
    k: Knowledge, full: Mapping[str, Any], short: Mapping[str, Any], diff: Sequence[str]
) -> str:
    """Why the short form decided differently: the first missing answer that mattered."""
    if short.get("asq.5") in ASQ_POSITIVE:  # same acute level and safety_first in both forms
        return "acute (ASQ 5 yes): the flow ends on crisis help, later answers are not asked"
    causes = []
    if "safety_level" in diff:
        if not any(i in short for i in ASQ_ITEMS):
            current = _asq_positive(full, ("asq.1", "asq.2", "asq.3"))
            kind = "current ideation (ASQ 1-3)" if current else "lifetime attempt only (ASQ 4)"
            if full.get("asq.5") in ASQ_POSITIVE:
                kind = "acute (ASQ 5)"
            causes.append(f"ASQ not asked (item 9 = 0, screen not positive, burnout < 5): {kind}")
        else:
            causes.append("safety: other")
    if "depression_likely" in diff:
        p = k.policy
        short_screen = depression_screen(short, p)
        phq2 = short["phq9.1"] + short["phq9.2"]
        if short_screen == "negative" and phq2 < p.phq2_gate:
            causes.append("PHQ-2 gate: PHQ-2 < 2 ends the PHQ-9, full PHQ-9 >= 10")
        else:
            causes.append(f"depression screen: other (short {short_screen})")
    if "burnout" in diff:
        causes.append("burnout: other")
    if not causes:  # eligibility alone
        causes.append("eligibility: other")
    return "; ".join(causes)


def example(a: Applicant, full: Mapping[str, Any], fd: Decision, sd: Decision) -> str:
    phq2 = full["phq9.1"] + full["phq9.2"]
    phq9 = sum(full[f"phq9.{i}"] for i in range(1, 10))
    asq = "/".join(str(full[f"asq.{i}"]) for i in range(1, 6))
    return (
        f"{a.klass}{' +ideation' if a.ideation else ''}: PHQ-2 {phq2}, PHQ-9 {phq9}, "
        f"item 9 {full['phq9.9']}, burnout {full['burnout.single']}, ASQ 1-5 {asq}, "
        f"{full['profile.state']} age {full['profile.age']} | full {fd.eligibility}/"
        f"{fd.safety_level}/{fd.triage} -> short {sd.eligibility}/{sd.safety_level}/{sd.triage}"
    )


def run(k: Knowledge, applicants: Sequence[Applicant]) -> dict[str, Any]:
    seconds: list[float] = []
    steps: list[int] = []
    items: list[int] = []
    agree = 0
    field_agree: Counter[str] = Counter()
    safety_pairs: Counter[tuple[str, str]] = Counter()
    full_not_candidate = 0
    not_candidate_lost: Counter[str] = Counter()
    wrong_candidates = 0
    causes: Counter[str] = Counter()
    cause_transitions: dict[str, Counter[str]] = {}
    examples: dict[str, list[str]] = {}
    asq_not_asked_but_positive = 0
    ideation = ideation_short = ideation_full = 0
    checklist_seconds: list[float] = []
    other_seconds: list[float] = []
    not_candidate_lost_gate = 0  # of those, lost because the PHQ-2 gate ended the PHQ-9
    replay_mismatches = 0  # decision.items_asked must equal the walk over the same answers
    for a in applicants:
        full = parse_answers(k, a.answers)
        w = taken(k, full)
        short = {i: full[i] for i in w.asked}
        fd, sd = evaluate(k, full), evaluate(k, short)
        seconds.append(w.seconds)
        steps.append(w.steps_answered)
        items.append(len(w.asked))
        (checklist_seconds if "medications" in short else other_seconds).append(w.seconds)
        fr, sr = routing(fd), routing(sd)
        diff = [f for f in ROUTING_FIELDS if fr[f] != sr[f]]
        for f in ROUTING_FIELDS:
            field_agree[f] += f not in diff
        agree += not diff
        safety_pairs[(fd.safety_level, sd.safety_level)] += 1
        if fd.eligibility == "not_candidate":
            full_not_candidate += 1
            if sd.eligibility != "not_candidate":
                not_candidate_lost[sd.eligibility] += 1
                gate = short["phq9.1"] + short["phq9.2"] < k.policy.phq2_gate
                not_candidate_lost_gate += gate and depression_screen(short, k.policy) == "negative"
        if sd.eligibility == "candidate" and fd.eligibility != "candidate":
            wrong_candidates += 1
        if not any(i in short for i in ASQ_ITEMS) and _asq_positive(full, ASQ_ITEMS):
            asq_not_asked_but_positive += 1
        if a.ideation:
            ideation += 1
            ideation_full += fd.safety_level != "none"
            ideation_short += sd.safety_level != "none"
        if fd.items_asked != walk(k, full).asked or sd.items_asked != w.asked:
            replay_mismatches += 1
        if diff:
            cause = f"[{', '.join(diff)}] {cause_of(k, full, short, diff)}"
            causes[cause] += 1
            cause_transitions.setdefault(cause, Counter())[
                f"{fd.eligibility} -> {sd.eligibility}"
            ] += 1
            ex = examples.setdefault(cause, [])
            if len(ex) < MAX_EXAMPLES:
                ex.append(example(a, full, fd, sd))
    n = len(applicants)
    safety_mismatch = sum(c for (f, s), c in safety_pairs.items() if f != s)
    return {
        "n": n,
        "seconds": {
            "median": statistics.median(seconds),
            "p90": percentile(seconds, 90),
            "mean": round(statistics.fmean(seconds), 1),
            "max": max(seconds),
            "median_with_checklist": statistics.median(checklist_seconds or [0.0]),
            "median_without_checklist": statistics.median(other_seconds or [0.0]),
            "share_with_checklist": round(len(checklist_seconds) / n, 4),
            "most_common": {f"{t:g}": round(c / n, 4) for t, c in Counter(seconds).most_common(6)},
        },
        "mean_steps": round(statistics.fmean(steps), 2),
        "mean_items": round(statistics.fmean(items), 2),
        "routing_agreement_pct": round(100 * agree / n, 2),
        "field_agreement_pct": {f: round(100 * field_agree[f] / n, 2) for f in ROUTING_FIELDS},
        "safety_level_mismatches": safety_mismatch,
        "safety_pairs_full_to_short": {
            f"{f} -> {s}": c for (f, s), c in sorted(safety_pairs.items()) if f != s
        },
        "asq_not_asked_but_full_asq_positive": asq_not_asked_but_positive,
        "latent_ideation": {
            "n": ideation,
            "flagged_full_pct": round(100 * ideation_full / max(1, ideation), 2),
            "flagged_short_pct": round(100 * ideation_short / max(1, ideation), 2),
        },
        "full_not_candidate": full_not_candidate,
        "not_candidate_reproduced": full_not_candidate - sum(not_candidate_lost.values()),
        "not_candidate_lost_to": dict(not_candidate_lost),
        "not_candidate_lost_phq2_gate": not_candidate_lost_gate,
        "wrong_candidates": wrong_candidates,
        "items_asked_replay_mismatches": replay_mismatches,
        "disagreements": [
            {
                "cause": cause,
                "count": count,
                "eligibility_full_to_short": dict(cause_transitions[cause].most_common()),
                "examples": examples[cause],
            }
            for cause, count in causes.most_common()
        ],
    }


OFFERING = ("candidate", "incomplete")  # results that lead on to the checklist or an evaluation


def hard_goals(r: Mapping[str, Any]) -> list[str]:
    failed = []
    if r["wrong_candidates"]:
        failed.append(f"{r['wrong_candidates']} short-form candidate(s) not candidate in full")
    # The strict "every not_candidate reproduced" is reported in the table (the PHQ-2 gate
    # turns some into not_indicated: nobody is offered anything). The hard failure is an
    # excluded person whom the short form would route towards an evaluation.
    offered = {e: n for e, n in r["not_candidate_lost_to"].items() if e in OFFERING}
    if offered:
        failed.append(f"excluded person(s) routed towards an evaluation: {offered}")
    if r["items_asked_replay_mismatches"]:
        failed.append(f"{r['items_asked_replay_mismatches']} items_asked differ from walk()")
    return failed


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_report(population: Mapping[str, float], results: Mapping[str, Any]) -> None:
    print("population:", ", ".join(f"{k} {v:g}" for k, v in population.items()))
    print()
    names = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, f: Any) -> None:
        rows.append((label, [f(results[v]) for v in names]))

    row("median s (goal <= 80; PRODUCT <= 75)", lambda r: f"{r['seconds']['median']:g}")
    row("p90 s (goal <= 150)", lambda r: f"{r['seconds']['p90']:g}")
    row("mean s", lambda r: f"{r['seconds']['mean']:g}")
    row(
        "median s: checklist path / other",
        lambda r: "{:g} / {:g}".format(
            r["seconds"]["median_with_checklist"], r["seconds"]["median_without_checklist"]
        ),
    )
    row("mean screens / answers asked", lambda r: f"{r['mean_steps']:g} / {r['mean_items']:g}")
    row("routing agreement % (goal >= 97)", lambda r: f"{r['routing_agreement_pct']:.2f}")
    for f in ROUTING_FIELDS:
        row(f"  {f} agreement %", lambda r, f=f: f"{r['field_agreement_pct'][f]:.2f}")
    row("safety level mismatches (goal 0)", lambda r: str(r["safety_level_mismatches"]))
    row("ASQ not asked, full ASQ positive", lambda r: str(r["asq_not_asked_but_full_asq_positive"]))
    row(
        "latent ideation flagged full / short %",
        lambda r: "{:.1f} / {:.1f}".format(
            r["latent_ideation"]["flagged_full_pct"], r["latent_ideation"]["flagged_short_pct"]
        ),
    )
    row(
        "not_candidate reproduced (goal all)",
        lambda r: "{}/{}".format(r["not_candidate_reproduced"], r["full_not_candidate"]),
    )
    row("  lost to the PHQ-2 gate", lambda r: str(r["not_candidate_lost_phq2_gate"]))
    row("wrong candidates (goal 0)", lambda r: str(r["wrong_candidates"]))
    width = max(len(label) for label, _ in rows)
    print(f"{'':{width}}  " + "  ".join(f"{v:>15}" for v in names))
    for label, cells in rows:
        print(f"{label:{width}}  " + "  ".join(f"{c:>15}" for c in cells))
    for v in names:
        r = results[v]
        s = r["seconds"]
        verdict = [
            f"median {_mark(s['median'] <= GOAL_MEDIAN_S)}"
            f" (PRODUCT 75 s {_mark(s['median'] <= PRODUCT_MEDIAN_S)})",
            f"p90 {_mark(s['p90'] <= GOAL_P90_S)}",
            f"agreement {_mark(r['routing_agreement_pct'] >= GOAL_AGREEMENT)}",
            f"safety {_mark(r['safety_level_mismatches'] == 0)}",
            f"hard goals {_mark(not hard_goals(r))}",
        ]
        print(f"\n[{v}] " + ", ".join(verdict))
        common = ", ".join(f"{t} s {c:.1%}" for t, c in s["most_common"].items())
        print(f"  most common times: {common}")
        print("  disagreements by cause [fields that differ]; eligibility full -> short:")
        for d in r["disagreements"]:
            print(f"  {d['count']:5d}  {d['cause']}")
            print(
                "         "
                + ", ".join(f"{t}: {c}" for t, c in d["eligibility_full_to_short"].items())
            )
            print(f"         e.g. {d['examples'][0]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="applicants (default 20000)")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON figures")
    args = parser.parse_args(argv)
    k = load()
    started = time.perf_counter()
    applicants = generate(k, args.n, args.seed)
    population = describe(k, applicants)
    results = {
        name: run(k.with_policy(**changes), applicants) for name, changes in VARIANTS.items()
    }
    default, universal = results["default"], results["universal_asq"]
    cost = {
        "median_s": universal["seconds"]["median"] - default["seconds"]["median"],
        "p90_s": universal["seconds"]["p90"] - default["seconds"]["p90"],
        "mean_s": round(universal["seconds"]["mean"] - default["seconds"]["mean"], 1),
    }
    print_report(population, results)
    print(
        f"\nuniversal ASQ costs: median {cost['median_s']:+g} s, p90 {cost['p90_s']:+g} s, "
        f"mean {cost['mean_s']:+g} s a person"
    )
    failed = {v: hard_goals(r) for v, r in results.items() if hard_goals(r)}
    elapsed = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "n": args.n,
                "seed": args.seed,
                "population": population,
                "variants": results,
                "universal_asq_cost": cost,
                "hard_goals_failed": failed,
                "elapsed_s": round(elapsed, 1),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures: {args.out} ({elapsed:.1f} s)")
    for v, problems in failed.items():
        for p in problems:
            print(f"HARD GOAL FAILED [{v}]: {p}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
