"""What one screen of the web flow shows: the question in the person's language, its options,
the answer already given (Back keeps answers), progress that tells the truth, and the crisis
panel once any answer showed risk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from crossline.engine.knowledge import US_STATES, Knowledge
from crossline.intake import flow
from crossline.intake.states import in_alphabetical_order, state_name


def screen_context(
    k: Knowledge,
    screen_id: str,
    answers: Mapping[str, Any],
    state: flow.FlowState,
    lang: str,
    posted: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The screen's context; with `posted` (a form refused), the page shows what the person
    posted, not the stored answers, so nothing they chose is lost or silently changed."""
    context: dict[str, Any] = {
        "screen_id": screen_id,
        "at_risk": state.at_risk,
        "progress": {
            "percent": state.percent,
            "answered": state.answered_steps,
            "remaining": state.remaining_steps,
        },
        "back": _previous(state, screen_id),
    }
    if screen_id == flow.CHECKLIST:
        context.update(_checklist(k, answers, lang, posted))
    elif screen_id == flow.MEDICATIONS:
        context.update(_medications(answers, posted))
    else:
        context.update(_question(k, screen_id, answers, lang))
        if posted is not None:
            value = posted.get(screen_id, "")
            context["current"] = value.strip() if isinstance(value, str) else ""
    return context


def _previous(state: flow.FlowState, screen_id: str) -> str | None:
    screens = state.screens
    if screen_id in screens:
        i = screens.index(screen_id)
        return screens[i - 1] if i > 0 else None
    return screens[-1] if screens else None


def _question(k: Knowledge, item_id: str, answers: Mapping[str, Any], lang: str) -> dict[str, Any]:
    item = k.items[item_id]
    inst = k.instruments[item.instrument]
    current = answers.get(item_id)
    out: dict[str, Any] = {
        "kind": item.input,
        "stem": inst.stem[lang] if item.instrument in ("phq9", "gad7") else "",
        "text": item.text[lang],
        "help": item.help[lang] if item.help else "",
        "current": "" if current is None else str(current),
        "instrument": inst.title[lang],
        "licence": inst.licence[lang] if inst.licence else "",
        "unvalidated_translation": lang == "es" and not inst.spanish_validated,
    }
    if item.input == "us_state":
        out["options"] = [
            {"value": s, "label": f"{state_name(s, lang)} ({s})"}
            for s in in_alphabetical_order(US_STATES, lang)
        ]
    elif item.input == "integer":
        out["minimum"], out["maximum"] = item.minimum, item.maximum
    else:
        out["options"] = [{"value": str(o.value), "label": o.text[lang]} for o in item.options]
    return out


def _checklist(
    k: Knowledge, answers: Mapping[str, Any], lang: str, posted: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    doc = k.docs["contraindications.toml"]["checklist"]

    def current(key: str) -> str:
        if posted is None:
            return str(answers.get(key, ""))
        if key not in posted:
            return ""  # a blank line stays blank
        # The "No" button posts "" (a line answered no, as the confirmation reads it).
        return {"yes": "yes", "unsure": "unsure", "": "no", "no": "no"}.get(posted[key], "")

    lines = [
        {"id": f"medical.{cid}", "text": c.question[lang], "current": current(f"medical.{cid}")}
        for cid, c in k.conditions.items()
    ]
    if posted is None:
        confirmed = all(line["current"] for line in lines)
    else:
        confirmed = posted.get(flow.NONE_OF_THE_OTHERS) == "1"
    return {
        "kind": "checklist",
        "text": doc["title"][lang],
        "intro": doc["intro"][lang],
        "none_label": doc["none_label"][lang],
        "labels": {v: doc["answer_labels"][v][lang] for v in ("yes", "unsure")},
        "lines": lines,
        "confirmed": confirmed,
    }


def _medications(
    answers: Mapping[str, Any], posted: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    # The question, also the page's title (a screen reader announces the title first).
    question = {"kind": "medications", "text": _("Which medicines and supplements do you take?")}
    if posted is not None:
        text = posted.get(flow.MEDICATIONS, "")
        return question | {
            "current": text if isinstance(text, str) else "",
            "none": posted.get(flow.NO_MEDICATIONS) == "1",
        }
    current = answers.get("medications")
    return question | {
        "current": "\n".join(current) if current else "",
        "none": current == [] or current == (),
    }
