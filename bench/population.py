"""A synthetic applicant population for the benchmarks (PRODUCT.md: "What the flow asks").

Answers come from a latent model, not from a table of answers chosen to pass:

* a class — about half with depression at the treatment level, a third burned out without
  depression, the rest with few symptoms;
* latent depression severity `d` and exhaustion `e` (exhaustion overlaps with depression,
  r ≈ .80 in Bianchi 2021, FACTS §E), which drive the PHQ-9 items with item-level noise — so some
  depressed people have a PHQ-2 below the gate and some burned-out people have a PHQ-2 at or
  above it;
* suicidal ideation, a latent trait mostly but not only among the depressed, which shows on PHQ-9
  item 9 with probability 0.69 (FACTS §A1) and on ASQ 1–3 with high probability; a lifetime
  attempt (ASQ 4) at a realistic rate that is not tied to current ideation; acuity (ASQ 5) in a
  small fraction of those with ideation;
* state, age, the medical checklist, medicines (names from the knowledge base's own index, plus
  unrecognised names and a few "avoid" medicines) and antidepressant trials.

Every applicant has the FULL answer set (every contract id except the optional blood-pressure
reading), as raw contract JSON: `crossline.engine.parse_answers` accepts it unchanged.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crossline.engine import Knowledge
from crossline.engine.medications import match

SERVICE_STATES = {"FL": 0.71, "NJ": 0.29}  # by population (FL ≈ 22.6 M, NJ ≈ 9.3 M)
OTHER_STATES = tuple(
    "AL AK AZ AR CA CO CT DE GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split()
)
OUTSIDE_AREA = 0.25
UNDER_18 = 0.02
OVER_65 = 0.04
CLASSES = (("depressed", 0.50), ("burnout", 0.33), ("low", 0.17))

# PHQ-9 items 1–8: weight on latent depression d and on exhaustion e (sleep, energy and
# concentration carry most of the burnout–depression overlap).
PHQ_WEIGHTS = {
    "phq9.1": (1.00, 0.00),  # anhedonia
    "phq9.2": (1.00, 0.00),  # low mood
    "phq9.3": (0.50, 0.45),  # sleep
    "phq9.4": (0.45, 0.60),  # energy
    "phq9.5": (0.75, 0.10),  # appetite
    "phq9.6": (0.90, 0.00),  # worthlessness, guilt
    "phq9.7": (0.60, 0.35),  # concentration
    "phq9.8": (0.55, 0.00),  # psychomotor
}
ITEM_NOISE = 0.75
GAD_WEIGHTS = (1.0, 1.0, 1.0, 0.9, 0.6, 0.9, 0.7)

ITEM9_SENSITIVITY = 0.69  # FACTS §A1 (Uebelacker 2011)
ITEM9_WITHOUT_IDEATION = {"depressed": 0.05, "burnout": 0.015, "low": 0.005}  # passive thoughts
ATTEMPT_WITH_IDEATION = 0.28
ATTEMPT_WITHOUT_IDEATION = {"depressed": 0.07, "burnout": 0.025, "low": 0.012}
ACUTE_WITH_IDEATION = 0.08
REFUSE = 0.01

# medical.<id>: (P(yes), P(unsure)); rounded from general-population prevalences for adults.
CONDITION_RATES = {
    "aneurysm_avm": (0.002, 0.004),
    "brain_bleed": (0.003, 0.002),
    "ketamine_allergy": (0.001, 0.004),
    "bp_uncontrolled": (0.020, 0.015),
    "hypertensive_encephalopathy": (0.001, 0.003),
    "psychosis": (0.010, 0.008),
    "ketamine_misuse": (0.004, 0.002),
    "pregnant": (0.012, 0.004),
    "breastfeeding": (0.008, 0.001),
    "intracranial_pressure": (0.002, 0.004),
    "liver_severe": (0.003, 0.003),
    "heart": (0.030, 0.010),
    "stroke": (0.008, 0.003),
    "bipolar": (0.030, 0.020),
    "substance_use": (0.060, 0.015),
    "liver": (0.020, 0.010),
    "bladder": (0.015, 0.005),
    "glaucoma": (0.010, 0.006),
    "hyperthyroid": (0.020, 0.008),
}
DEPRESSED_MORE = {"psychosis": 1.5, "bipolar": 2.0, "substance_use": 1.5}

# How many medicines people list, and what they are.
MEDICATION_COUNTS = ((0, 0.38), (1, 0.27), (2, 0.17), (3, 0.10), (4, 0.05), (5, 0.03))
ANTIDEPRESSANTS = (
    "sertraline", "zoloft", "fluoxetine", "prozac", "escitalopram", "lexapro", "citalopram",
    "paroxetine", "venlafaxine", "effexor", "duloxetine", "cymbalta", "desvenlafaxine",
    "bupropion", "wellbutrin", "mirtazapine", "trazodone", "vortioxetine", "trintellix",
)  # fmt: skip
# Class weights for an entry that is not the person's antidepressant (knowledge class ids).
ENTRY_CLASSES = (
    ("no_interaction", 0.62),
    ("unrecognised", 0.08),
    ("benzodiazepine", 0.07),
    ("sedative", 0.06),
    ("stimulant", 0.05),
    ("opioid", 0.025),
    ("lamotrigine", 0.015),
    ("sympathomimetic", 0.01),
    ("nmda_antagonist", 0.01),
    ("cyp2b6_inhibitor", 0.008),
    ("enzyme_inducer", 0.006),
    ("cyp3a4_inhibitor", 0.005),
    ("maoi", 0.003),
    ("theophylline", 0.0015),
)
# Real medicines (and typos) the knowledge base does not list: they must raise "unrecognised".
UNRECOGNISED = (
    "levothyroxine", "Synthroid", "Lamisil", "aripiprazole", "Abilify", "quetiapine",
    "Seroquel", "lithium", "buspirone", "BuSpar", "sumatriptan", "Ozempic", "semaglutide",
    "insulin glargine", "albuterol inhaler", "sertaline", "Lexipro", "zolof", "birth control",
    "cbd oil", "melatonin", "magnesium",
)  # fmt: skip
DOSES = ("5", "10", "20", "25", "50", "75", "100", "150", "200", "300")
TRIALS = {
    "depressed": (0.40, 0.28, 0.18, 0.14),
    "burnout": (0.80, 0.14, 0.04, 0.02),
    "low": (0.90, 0.07, 0.02, 0.01),
}
ON_ANTIDEPRESSANT = {"depressed": 0.45, "burnout": 0.15, "low": 0.05}


@dataclass(frozen=True, slots=True)
class Applicant:
    """One synthetic applicant: the latent truth and the full raw answer set."""

    klass: str  # depressed | burnout | low
    ideation: bool  # latent current suicidal ideation
    answers: dict[str, Any]


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _item(x: float) -> int:
    return min(3, max(0, round(x)))


def _yes(rng: random.Random, p: float) -> str:
    if rng.random() < p:
        return "yes"
    return "refused" if rng.random() < REFUSE * 0.2 else "no"


class Generator:
    """Draws applicants; medicine names come from `knowledge.medication_index`."""

    def __init__(self, knowledge: Knowledge, seed: int) -> None:
        self.rng = random.Random(seed)
        self.conditions = tuple(knowledge.conditions)
        by_class: dict[str, list[str]] = {}
        for name, cid in knowledge.medication_index.items():
            by_class.setdefault(cid, []).append(name)
        missing = [n for n in ANTIDEPRESSANTS if knowledge.medication_index.get(n) is None]
        unknown = [c for c, _ in ENTRY_CLASSES if c != "unrecognised" and c not in by_class]
        index, words = knowledge.medication_index, knowledge.medication_max_words
        known_typos = [n for n in UNRECOGNISED if match(n, index, words).recognised]
        if missing or unknown or known_typos:
            raise ValueError(f"population out of date: {missing} {unknown} {known_typos}")
        self.names = {c: sorted(v) for c, v in by_class.items()}
        self.names["unrecognised"] = list(UNRECOGNISED)

    def applicant(self) -> Applicant:
        rng = self.rng
        klass = _weighted(rng, CLASSES)
        if klass == "depressed":
            d = rng.gauss(1.85, 0.45)
            e = 0.55 * d + rng.gauss(0.45, 0.40)
        elif klass == "burnout":
            d = rng.gauss(0.80, 0.35)
            e = rng.gauss(1.70, 0.40)
        else:
            d = rng.gauss(0.25, 0.25)
            e = rng.gauss(0.40, 0.35)
        d, e = max(d, 0.0), max(e, 0.0)
        ideation = rng.random() < 1 / (1 + math.exp(5.6 - 1.9 * d))
        a: dict[str, Any] = {}
        for item, (wd, we) in PHQ_WEIGHTS.items():
            a[item] = _item(wd * d + we * e + rng.gauss(0, ITEM_NOISE))
        a["phq9.9"] = self._item9(klass, ideation, d)
        total = sum(a[f"phq9.{i}"] for i in range(1, 10))
        a["phq9.difficulty"] = _item(total / 7 + rng.gauss(0, 0.6))
        anxiety = 0.6 * d + 0.3 * e + rng.gauss(0, 0.45)
        for i, w in enumerate(GAD_WEIGHTS, 1):
            a[f"gad7.{i}"] = _item(w * anxiety + rng.gauss(0, ITEM_NOISE))
        a.update(self._asq(klass, ideation, a["phq9.9"]))
        burnout = round(1.2 + 1.35 * e + rng.gauss(0, 0.55))
        if ideation and rng.random() < 0.3:  # "often wonder if I can go on"
            burnout += 1
        a["burnout.single"] = min(5, max(1, burnout))
        a.update(self._scope(klass))
        age = self._age()
        a["profile.state"] = self._state()
        a["profile.age"] = age
        for cid in self.conditions:
            a[f"medical.{cid}"] = self._condition(cid, klass, age)
        trials = _weighted(rng, tuple(zip(range(4), TRIALS[klass], strict=True)))
        a["history.antidepressant_trials"] = trials
        a["medications"] = self._medications(klass, trials)
        return Applicant(klass, ideation, a)

    def _item9(self, klass: str, ideation: bool, d: float) -> int:
        rng = self.rng
        if ideation:
            if rng.random() >= ITEM9_SENSITIVITY:
                return 0
            return _weighted(rng, ((1, 0.55), (2, 0.28 + 0.05 * d), (3, 0.17 + 0.05 * d)))
        return 1 if rng.random() < ITEM9_WITHOUT_IDEATION[klass] else 0

    def _asq(self, klass: str, ideation: bool, item9: int) -> dict[str, str]:
        rng = self.rng
        if ideation:
            out = {"asq.1": _yes(rng, 0.85), "asq.2": _yes(rng, 0.55), "asq.3": _yes(rng, 0.60)}
            out = {k: ("refused" if rng.random() < REFUSE else v) for k, v in out.items()}
            out["asq.4"] = _yes(rng, ATTEMPT_WITH_IDEATION)
            acute = rng.random() < ACUTE_WITH_IDEATION
            out["asq.5"] = "yes" if acute else ("refused" if rng.random() < REFUSE else "no")
            if out["asq.5"] != "no" and out["asq.3"] == "no":
                out["asq.3"] = "yes"  # thoughts right now are thoughts in the past week
            return out
        passive = item9 > 0  # death wishes that item 9 picks up without current ideation
        return {
            "asq.1": _yes(rng, 0.35 if passive else 0.015 if klass == "depressed" else 0.005),
            "asq.2": _yes(rng, 0.10 if passive else 0.01 if klass == "depressed" else 0.002),
            "asq.3": _yes(rng, 0.02 if passive else 0.0),
            "asq.4": _yes(rng, ATTEMPT_WITHOUT_IDEATION[klass]),
            "asq.5": "no",
        }

    def _scope(self, klass: str) -> dict[str, str]:
        rng = self.rng
        most = {"depressed": 0.75, "burnout": 0.20, "low": 0.15}[klass]
        time_off = {
            "depressed": (("persists", 0.60), ("lifts", 0.12), ("no_time_off", 0.28)),
            "burnout": (("lifts", 0.55), ("persists", 0.20), ("no_time_off", 0.25)),
            "low": (("lifts", 0.70), ("persists", 0.10), ("no_time_off", 0.20)),
        }[klass]
        return {
            "scope.where": "most_areas" if rng.random() < most else "work",
            "scope.time_off": _weighted(rng, time_off),
        }

    def _age(self) -> int:
        rng = self.rng
        u = rng.random()
        if u < UNDER_18:
            return rng.randint(15, 17)
        if u < UNDER_18 + OVER_65:
            return rng.randint(66, 82)
        return int(rng.triangular(18, 66, 34))  # 18–65

    def _state(self) -> str:
        rng = self.rng
        # Canonical USPS codes, as a state picker sends them (so walk() works on raw answers).
        if rng.random() < OUTSIDE_AREA:
            return rng.choice(OTHER_STATES)
        return _weighted(rng, tuple(SERVICE_STATES.items()))

    def _condition(self, cid: str, klass: str, age: int) -> str:
        p_yes, p_unsure = CONDITION_RATES[cid]
        if klass == "depressed":
            p_yes *= DEPRESSED_MORE.get(cid, 1.0)
        if cid in ("pregnant", "breastfeeding") and age > 48:
            p_yes = p_unsure = 0.0
        if cid in ("bp_uncontrolled", "heart", "stroke", "glaucoma") and age >= 50:
            p_yes *= 2.5
        u = self.rng.random()
        return "yes" if u < p_yes else "unsure" if u < p_yes + p_unsure else "no"

    def _medications(self, klass: str, trials: int) -> list[str]:
        rng = self.rng
        count = _weighted(rng, MEDICATION_COUNTS)
        if count == 0:
            return ["none"] if rng.random() < 0.05 else []
        entries: list[str] = []
        p_ad = min(0.9, ON_ANTIDEPRESSANT[klass] + 0.15 * trials)
        if rng.random() < p_ad:
            entries.append(self._spelled(rng.choice(ANTIDEPRESSANTS)))
        while len(entries) < count:
            cid = _weighted(rng, ENTRY_CLASSES)
            entries.append(self._spelled(rng.choice(self.names[cid])))
        return entries

    def _spelled(self, name: str) -> str:
        """How people type it: case, brand capitals, sometimes a dose and a frequency."""
        rng = self.rng
        u = rng.random()
        typed = name.title() if u < 0.45 else name.upper() if u < 0.5 else name
        v = rng.random()
        if v < 0.30:
            typed += f" {rng.choice(DOSES)} mg"
        elif v < 0.40:
            typed += f" {rng.choice(DOSES)}mg {rng.choice(('daily', 'twice daily', 'at night'))}"
        elif v < 0.45:
            typed += " XR" if rng.random() < 0.5 else " as needed"
        return typed


def generate(knowledge: Knowledge, n: int, seed: int) -> list[Applicant]:
    gen = Generator(knowledge, seed)
    return [gen.applicant() for _ in range(n)]


def describe(knowledge: Knowledge, applicants: Sequence[Applicant]) -> dict[str, float]:
    """Population checks (shares), so a reader can see the model is the one PRODUCT.md asks for."""
    n = len(applicants)
    k = knowledge
    exclusions = [f"medical.{c}" for c, cond in k.conditions.items() if cond.kind == "exclusion"]

    def classes(x: Applicant) -> set[str | None]:
        return {
            match(e, k.medication_index, k.medication_max_words).class_id
            for e in x.answers["medications"]
        }

    def share(pred: Any) -> float:
        return round(sum(1 for x in applicants if pred(x)) / n, 4)

    def phq(a: Mapping[str, Any], items: range) -> int:
        return sum(a[f"phq9.{i}"] for i in items)

    depressed_scr = [x for x in applicants if phq(x.answers, range(1, 10)) >= 10]
    not_scr = [x for x in applicants if phq(x.answers, range(1, 10)) < 10]
    ideation = [x for x in applicants if x.ideation]
    asq_pos = ("yes", "refused")
    return {
        "class_depressed": share(lambda x: x.klass == "depressed"),
        "class_burnout": share(lambda x: x.klass == "burnout"),
        "class_low": share(lambda x: x.klass == "low"),
        "phq9_ge_10": share(lambda x: phq(x.answers, range(1, 10)) >= 10),
        "phq2_lt_2_among_phq9_ge_10": round(
            sum(1 for x in depressed_scr if phq(x.answers, range(1, 3)) < 2) / len(depressed_scr),
            4,
        ),
        "phq2_ge_2_among_phq9_lt_10": round(
            sum(1 for x in not_scr if phq(x.answers, range(1, 3)) >= 2) / len(not_scr), 4
        ),
        "latent_ideation": share(lambda x: x.ideation),
        "ideation_among_depressed_class": round(
            sum(1 for x in ideation if x.klass == "depressed") / max(1, len(ideation)), 4
        ),
        "item9_sensitivity": round(
            sum(1 for x in ideation if x.answers["phq9.9"] > 0) / max(1, len(ideation)), 4
        ),
        "asq_1_3_sensitivity": round(
            sum(1 for x in ideation if any(x.answers[f"asq.{i}"] in asq_pos for i in (1, 2, 3)))
            / max(1, len(ideation)),
            4,
        ),
        "reports_self_harm_item9_or_asq_1_3": share(
            lambda x: (
                x.answers["phq9.9"] > 0 or any(x.answers[f"asq.{i}"] in asq_pos for i in (1, 2, 3))
            )
        ),
        "asq4_lifetime_attempt": share(lambda x: x.answers["asq.4"] in asq_pos),
        "asq4_without_ideation": share(lambda x: x.answers["asq.4"] == "yes" and not x.ideation),
        "asq5_acute": share(lambda x: x.answers["asq.5"] in asq_pos),
        "burnout_item_ge_3": share(lambda x: x.answers["burnout.single"] >= 3),
        "burnout_item_5": share(lambda x: x.answers["burnout.single"] == 5),
        "outside_service_area": share(lambda x: x.answers["profile.state"] not in SERVICE_STATES),
        "under_18": share(lambda x: x.answers["profile.age"] < 18),
        "over_65": share(lambda x: x.answers["profile.age"] > 65),
        "any_exclusion_yes": share(lambda x: any(x.answers[i] == "yes" for i in exclusions)),
        "any_medical_unsure": share(
            lambda x: any(x.answers[f"medical.{c}"] == "unsure" for c in CONDITION_RATES)
        ),
        "lists_medicines": share(lambda x: bool(x.answers["medications"])),
        "avoid_medicine": share(lambda x: bool(classes(x) & {"maoi", "theophylline"})),
        "unrecognised_medicine": share(lambda x: None in classes(x)),
    }
