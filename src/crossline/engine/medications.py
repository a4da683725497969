"""Medication names: normalisation and exact matching (never fuzzy — Lamisil must not be Lamictal).

A typed entry such as "Adderall XR 20 mg twice daily" matches when its longest run of leading
words is a known name and every word after it is a dose, formulation or frequency word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

# Words that may follow a name without changing which medicine it is.
DOSE_WORDS = frozenset(
    """
    mg mcg ug g gm gram grams ml l iu unit units meq % mg/ml mg/day mcg/hr mcg/h mg/24h
    tab tabs tablet tablets cap caps capsule capsules pill pills patch patches spray sprays
    puff puffs drop drops dose doses injection inj liquid solution suspension syrup gummy gummies
    oral po sl sublingual nasal topical chewable
    er xr sr xl cr la dr ir ec odt cd hcl hydrochloride sodium extended immediate delayed release
    daily bid tid qid qd qhs qam qpm qod prn hs once twice three four times a an day days per
    at night nightly bedtime morning evening as needed every other hour hours hrs hr weekly week
    with meals and or x
    diario diaria al dia dias cada noche noches manana tarde tableta tabletas pastilla pastillas
    capsula capsulas gotas por vez veces dos tres semana semanal segun necesario
    """.split()
)

# An entry that means "no medicines" (English and Spanish).
NONE_ENTRIES = frozenset(
    {"none", "no", "nothing", "n/a", "na", "nil", "ninguno", "ninguna", "nada"}
)

_NUMBER = re.compile(r"^\d+([./]\d+)*$")
# Between a digit and a unit glued to it ("20mg"): a lookaround, so the replacement is a
# literal space (a group template such as r"\1 \2" costs a Python call per match).
_GLUED_UNIT = re.compile(r"(?<=\d)(?=[a-z%])")
_NOT_KEPT = re.compile(r"[^a-z0-9\-./% ]+")
_LONE_PERIOD = re.compile(r"(?<!\d)\.|\.(?!\d)")


@dataclass(frozen=True, slots=True)
class MedicationMatch:
    """The result of matching one typed entry: a class id, "none", or unrecognised (None)."""

    entry: str
    name: str | None
    class_id: str | None

    @property
    def recognised(self) -> bool:
        return self.class_id is not None


def _fold(text: str) -> str:
    if text.isascii():  # NFKD leaves ASCII as it is, and no ASCII character is combining
        ascii_only = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_only.lower().replace("’", "").replace("'", "").replace("#", "")
    kept = _NOT_KEPT.sub(" ", lowered)
    return _LONE_PERIOD.sub("", kept) if "." in kept else kept


def normalise_name(text: str) -> str:
    """The canonical form names are stored in: folded, single-spaced."""
    return " ".join(_fold(text).split())


def tokens(text: str) -> list[str]:
    return _GLUED_UNIT.sub(" ", _fold(text)).split()


def is_dose_word(word: str) -> bool:
    """A dose, formulation or frequency word, or a number: what may follow a name."""
    return word in DOSE_WORDS or _NUMBER.match(word) is not None


def match(entry: str, index: Mapping[str, str], max_words: int) -> MedicationMatch:
    words = tokens(entry)
    joined = " ".join(words)
    if joined in NONE_ENTRIES:
        return MedicationMatch(entry, joined, "none")
    for n in range(min(max_words, len(words)), 0, -1):
        name = " ".join(words[:n])
        class_id = index.get(name)
        if class_id is not None and all(is_dose_word(w) for w in words[n:]):
            return MedicationMatch(entry, name, class_id)
    return MedicationMatch(entry, None, None)
