"""POST /api/v1/flow/next: the adaptive flow for clients that render their own screens.

The client sends the answers so far (in the body: answers never travel in a URL) and gets the
next screen, honest progress and the safety block. Crisis resources appear as soon as any
answer shows risk: safety is judged on every answer given, not only on those the flow asked.
Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.utils import translation
from ninja import Router

from crossline.api.errors import read_json
from crossline.api.schemas import Errors, FlowNext
from crossline.engine import Knowledge, Step, parse_request
from crossline.engine.instruments import safety_level
from crossline.intake import flow
from crossline.intake.states import STATE_NAMES, in_alphabetical_order, state_name
from crossline.program.policy import current_knowledge

router = Router(tags=["flow"])

STEMMED_INSTRUMENTS = ("phq9", "gad7")  # "Over the last 2 weeks, how often…"

_DESCRIPTION = """\
The next screen of the adaptive assessment for the answers so far. `item` is null when the
flow is done (then submit the answers to `POST /assessments`). A `checklist` item is answered
by giving each of its `ids` one of the options. `progress.remaining` is an upper bound on the
screens still to come. `safety` lists crisis resources as soon as any answer shows risk: show
them at once. Invalid answers are refused with 422, naming each field; a body not sent as
`application/json` with 415. Nothing is stored."""

_EXTRA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FlowRequest"}}},
    }
}


@router.post(
    "/flow/next",
    response={200: FlowNext, 413: Errors, 415: Errors, 422: Errors},
    operation_id="flowNext",
    summary="The next screen of the assessment",
    description=_DESCRIPTION,
    openapi_extra=_EXTRA,
)
def flow_next(request: HttpRequest) -> dict[str, Any]:
    k = current_knowledge()
    req = parse_request(k, read_json(request))
    return next_screen(k, req.answers, req.language)


def next_screen(k: Knowledge, answers: Mapping[str, Any], lang: str) -> dict[str, Any]:
    state = flow.state_of(k, answers)
    done = state.done
    return {
        "done": done,
        "item": None if done or state.next is None else _item(k, state.next, lang),
        "progress": {
            "answered": state.answered_steps,
            "remaining": 0 if done else state.remaining_steps,
        },
        "safety": safety(k, answers, lang),
    }


def safety(k: Knowledge, answers: Mapping[str, Any], lang: str) -> dict[str, Any]:
    level = safety_level(answers)
    crisis = level != "none"
    resources = [
        {"id": r.id, "label": r.label[lang], "contact": r.contact[lang]} for r in k.resources
    ]
    return {"level": level, "crisis_resources": crisis, "resources": resources if crisis else []}


def _item(k: Knowledge, step: Step, lang: str) -> dict[str, Any]:
    if step.kind == "checklist":
        return _checklist(k, step, lang)
    if step.kind == "medications":
        return _medications(k, lang)
    return _question(k, step.ids[0], lang)


def _question(k: Knowledge, item_id: str, lang: str) -> dict[str, Any]:
    item = k.items[item_id]
    instrument = k.instruments[item.instrument]
    options: list[dict[str, Any]]
    if item.input == "us_state":
        states = in_alphabetical_order(STATE_NAMES, lang)
        options = [{"value": s, "label": f"{state_name(s, lang)} ({s})"} for s in states]
    else:
        options = [{"value": o.value, "label": o.text[lang]} for o in item.options]
    text = item.text[lang]
    return {
        "id": item_id,
        "kind": "question",
        "input": item.input,
        "text": text,
        "stem": instrument.stem[lang] if item.instrument in STEMMED_INSTRUMENTS else "",
        "help": item.help[lang] if item.help else "",
        "options": options,
        "ids": [{"id": item_id, "text": text}],
        "minimum": item.minimum,
        "maximum": item.maximum,
    }


def _checklist(k: Knowledge, step: Step, lang: str) -> dict[str, Any]:
    doc = k.docs["contraindications.toml"]["checklist"]
    first = k.items[step.ids[0]]
    return {
        "id": flow.CHECKLIST,
        "kind": "checklist",
        "input": "condition",
        "text": doc["title"][lang],
        "stem": doc["intro"][lang],
        "help": "",
        "options": [{"value": o.value, "label": o.text[lang]} for o in first.options],
        "ids": [{"id": i, "text": k.items[i].text[lang]} for i in step.ids],
        "minimum": None,
        "maximum": None,
    }


def _medications(k: Knowledge, lang: str) -> dict[str, Any]:
    text = k.items[flow.MEDICATIONS].text[lang] or _medications_fallback(lang)
    return {
        "id": flow.MEDICATIONS,
        "kind": "medications",
        "input": "medications",
        "text": text,
        "stem": "",
        "help": "",
        "options": [],
        "ids": [{"id": flow.MEDICATIONS, "text": text}],
        "minimum": None,
        "maximum": None,
    }


def _medications_fallback(lang: str) -> str:
    """The web screen's wording (its template string) until the knowledge files carry one."""
    with translation.override(lang):
        return translation.gettext("Which medicines and supplements do you take?")
