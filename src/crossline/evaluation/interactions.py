"""The interaction check, re-run on the clinician's reconciled medication list. Pure: no Django.

Each entry is matched exactly as the screen matched it (`crossline.engine.medications.match`:
normalised, never fuzzy), against the same medication classes (knowledge/medications.toml,
severities from FACTS §C). A class with severity "avoid" blocks approval; "caution" and
"monitor" classes and unrecognised names become review items the clinician confirms or clears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crossline.engine.knowledge import Knowledge
from crossline.engine.medications import match

UNRECOGNISED_RULE = "medication.unrecognised"
REVIEWED_SEVERITIES = frozenset({"caution", "monitor"})


@dataclass(frozen=True, slots=True)
class Interaction:
    """One reconciled entry: what it matched and how severe the interaction is."""

    entry: str
    class_id: str | None  # None: not recognised by its exact name; "none": "no medicines"
    label: str
    severity: str  # avoid | caution | monitor | none | unrecognised
    mechanism: str
    citations: tuple[str, ...]
    unverified: bool = False

    @property
    def rule(self) -> str:
        return UNRECOGNISED_RULE if self.class_id is None else f"medication.{self.class_id}"


def check(k: Knowledge, entries: Iterable[str]) -> list[Interaction]:
    out = []
    for entry in entries:
        m = match(entry, k.medication_index, k.medication_max_words)
        if m.class_id is None:
            cites = ("policy.unrecognised_medication",)
            out.append(Interaction(entry, None, "Not recognised", "unrecognised", "", cites))
        elif m.class_id == "none":
            out.append(Interaction(entry, "none", "No medicines", "none", "", ()))
        else:
            c = k.medication_classes[m.class_id]
            out.append(
                Interaction(
                    entry, c.id, c.label["en"], c.severity, c.mechanism, c.citations, c.unverified
                )
            )
    return out


def avoided(interactions: Iterable[Interaction]) -> list[Interaction]:
    return [i for i in interactions if i.severity == "avoid"]


def review_items(k: Knowledge, interactions: Iterable[Interaction]) -> dict[str, str]:
    """The review items the reconciled list raises: rule id → a staff-facing sentence."""
    names: dict[str, list[str]] = {}
    for i in interactions:
        if i.severity in REVIEWED_SEVERITIES or i.severity == "unrecognised":
            names.setdefault(i.rule, []).append(i.entry)
    out = {}
    for rule, entries in names.items():
        listed = ", ".join(entries)
        if rule == UNRECOGNISED_RULE:
            out[rule] = f"Medicine not recognised by its exact name — review ({listed})."
        else:
            out[rule] = f"{k.medication_classes[rule.split('.', 1)[1]].flag['en']} ({listed})"
    return out
