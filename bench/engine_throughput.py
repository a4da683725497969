"""Engine throughput: decisions per second on one core, without JSON parsing or printing.

A decision = `parse_answers` (validation) + `evaluate` (scoring, rules, the items_asked replay)
+ `Decision.to_dict()`. The workload is ~2,000 varied answer sets from bench/population.py: the
answers each applicant submits at the end of the adaptive flow (what the API receives), in
English and Spanish. After a warm-up, each run times `--passes` passes over the set with
`time.perf_counter` in this one process; the figure is the median of `--runs` runs. A breakdown
times each stage alone (parse_answers, evaluate, to_dict, walk); the full answer sets (every
contract id) are timed too. `--profile` runs the pipeline under cProfile and prints the top 15
functions by cumulative time.

    .venv/bin/python bench/engine_throughput.py [--n 2000] [--passes 5] [--runs 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crossline.engine import Knowledge, evaluate, parse_answers, walk
from crossline.knowledge import load
from population import generate

OUT = Path(__file__).parent / "out" / "engine_throughput.json"
GOAL_PER_S = 20_000
SPANISH_SHARE = 0.2


def pipeline(k: Knowledge, raw: Sequence[tuple[dict[str, Any], str]]) -> None:
    for answers, language in raw:
        evaluate(k, parse_answers(k, answers), language).to_dict()


def bench(
    stages: Mapping[str, Callable[[], None]], size: int, passes: int, runs: int
) -> dict[str, dict[str, float]]:
    """Median decisions/s over `runs` runs of `passes` passes, after one warm-up pass.

    The stages are interleaved run by run, so a slow patch of a shared machine hits them all
    alike and the breakdown stays comparable with the pipeline.
    """
    for stage in stages.values():
        stage()
    rates: dict[str, list[float]] = {name: [] for name in stages}
    cpu_rates: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(runs):
        for name, stage in stages.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(passes):
                stage()
            cpu = time.process_time() - cpu_start
            rates[name].append(size * passes / (time.perf_counter() - start))
            cpu_rates[name].append(size * passes / cpu if cpu > 0 else math.inf)
    out = {}
    for name, r in rates.items():
        rate = statistics.median(r)
        out[name] = {
            "per_s": round(rate),
            "us_each": round(1e6 / rate, 2),
            "min_per_s": round(min(r)),
            "max_per_s": round(max(r)),
            # process CPU time: what the rate would be without waiting for a shared core
            "cpu_per_s": round(statistics.median(cpu_rates[name])),
        }
    return out


def workloads(k: Knowledge, n: int, seed: int) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Raw contract answers (as after JSON parsing): flow-submitted and full battery."""
    flow, full = [], []
    for i, a in enumerate(generate(k, n, seed)):
        language = "es" if i % int(1 / SPANISH_SHARE) == 0 else "en"
        asked = walk(k, parse_answers(k, a.answers)).asked
        flow.append(({key: a.answers[key] for key in asked}, language))
        full.append((a.answers, language))
    return {"flow": flow, "full": full}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="answer sets (default 2000)")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed")
    parser.add_argument("--passes", type=int, default=5, help="passes over the set per run")
    parser.add_argument("--runs", type=int, default=5, help="runs (the median is reported)")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON figures")
    args = parser.parse_args(argv)
    k = load()
    sets = workloads(k, args.n, args.seed)
    flow = sets["flow"]
    parsed = [(parse_answers(k, a), lang) for a, lang in flow]
    decisions = [evaluate(k, a, lang) for a, lang in parsed]
    size, passes, runs = len(flow), args.passes, args.runs

    def stage_parse() -> None:
        for a, _ in flow:
            parse_answers(k, a)

    def stage_evaluate() -> None:
        for a, lang in parsed:
            evaluate(k, a, lang)

    def stage_to_dict() -> None:
        for d in decisions:
            d.to_dict()

    def stage_walk() -> None:
        for a, _ in parsed:
            walk(k, a)

    stages = {
        "pipeline (flow answers)": lambda: pipeline(k, flow),
        "pipeline (full answers)": lambda: pipeline(k, sets["full"]),
        "parse_answers only": stage_parse,
        "evaluate only": stage_evaluate,
        "to_dict only": stage_to_dict,
        "walk only": stage_walk,
    }
    load_before = os.getloadavg()[0]
    results = bench(stages, size, passes, runs)
    headline = results["pipeline (flow answers)"]
    mean_items = statistics.fmean(len(a) for a, _ in flow)
    print(
        f"{size} answer sets (flow-submitted, mean {mean_items:.1f} answers; {SPANISH_SHARE:.0%} "
        f"Spanish), {passes} passes x {runs} runs, Python {platform.python_version()}, one core, "
        f"load average {load_before:.2f} at start"
    )
    width = max(map(len, results))
    print(
        f"{'stage':{width}}  {'per s':>9}  {'us each':>8}  {'min-max per s':>15}  {'CPU per s':>9}"
    )
    for name, r in results.items():
        spread = f"{r['min_per_s']}-{r['max_per_s']}"
        print(
            f"{name:{width}}  {r['per_s']:>9}  {r['us_each']:>8}  {spread:>15}  {r['cpu_per_s']:>9}"
        )
    verdict = "ok" if headline["per_s"] >= GOAL_PER_S else "MISSED"
    print(f"\ndecisions/s per core: {headline['per_s']} (goal >= {GOAL_PER_S}: {verdict})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "n": size,
        "seed": args.seed,
        "passes": passes,
        "runs": runs,
        "python": platform.python_version(),
        "mean_answers_flow": round(mean_items, 2),
        "load_average_at_start": round(load_before, 2),
        "stages": results,
        "goal_per_s": GOAL_PER_S,
        "goal_met": headline["per_s"] >= GOAL_PER_S,
    }
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures: {args.out}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(passes):
            pipeline(k, flow)
        profiler.disable()
        print(f"\ncProfile, {passes} passes over {size} flow answer sets:")
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        stats.sort_stats("cumulative").print_stats(15)
        stats.sort_stats("tottime").print_stats(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
