"""Safety in a form someone else renders: the Questionnaire opens with the crisis line, and the
crisis resources appear as soon as an answer shows risk — PHQ-9 item 9 above "Not at all", or
an ASQ "yes" or refusal (FACTS §A4b, §F2; the engine's `shows_risk`) — through `enableWhen`,
which any FHIR form renderer honours. The texts are the knowledge base's (resources.toml).

What a static form cannot do is end the assessment at acute risk, as crossline's own pages do:
the Questionnaire's description tells integrators to act on the answers, and the decision comes
from `POST /api/v1/assessments`.
"""

from __future__ import annotations

from typing import Any

from crossline.engine.instruments import ASQ_ACUITY, ASQ_ITEMS, ASQ_POSITIVE
from crossline.engine.knowledge import Knowledge, Option, Text
from crossline.fhir.items import display, option_coding

ITEM_9 = "phq9.9"
# The last question of each group that can show risk: its crisis resources come right after.
LAST = {"phq9": ITEM_9, "asq": ASQ_ACUITY}


def banner(k: Knowledge, language: str) -> dict[str, Any]:
    """The first item of the form, always shown: "In crisis? Call or text 988 — or 911 …"."""
    return display("crisis", _banner(k), language)


def after(k: Knowledge, section: str, base: str, language: str) -> list[dict[str, Any]]:
    """The crisis resources of a group with risk questions (PHQ-9, ASQ; the group puts them
    under `LAST[section]`), shown when any of its answers shows risk; nothing for the others."""
    if section == "phq9":
        risky = [(ITEM_9, o) for o in k.items[ITEM_9].options if o.value != 0]
    elif section == "asq":
        risky = [
            (item, o)
            for item in (*ASQ_ITEMS, ASQ_ACUITY)
            for o in k.items[item].options
            if o.value in ASQ_POSITIVE
        ]
    else:
        return []
    when = [
        {"question": item, "operator": "=", "answerCoding": _code(o, base)} for item, o in risky
    ]
    head = display(f"{section}.crisis.banner", _banner(k), language)
    lines = [display(f"{section}.crisis.{r.id}", r.label, language) for r in k.resources]
    return [
        {
            "linkId": f"{section}.crisis",
            "type": "group",
            "enableWhen": when,
            "enableBehavior": "any",
            "item": [head, *lines],
        }
    ]


def _banner(k: Knowledge) -> Text:
    return k.docs["resources.toml"]["banner"]  # type: ignore[no-any-return]


def _code(option: Option, base: str) -> dict[str, str]:
    coding = option_coding(option, base, "en")
    return {"system": coding["system"], "code": coding["code"]}
