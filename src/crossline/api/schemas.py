"""What the API's requests and responses look like, for the OpenAPI document and the docs page.

Requests are parsed by the engine's contract (`parse_request`), not by these classes, so that
every error has the contract's shape; the request schema below is generated from the knowledge
base's items, so it lists exactly the ids and values the contract accepts. The response classes
describe the decision the engine returns (PRODUCT.md, "The decision"); tests check every
response against them.
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema

from crossline.engine.contract import MAX_MEDICATION_LENGTH, MAX_MEDICATIONS
from crossline.engine.knowledge import LANGUAGES, US_STATES, Item, Knowledge

Eligibility = Literal[
    "safety_first",
    "incomplete",
    "under_age",
    "outside_service_area",
    "not_indicated",
    "not_candidate",
    "candidate",
]
Triage = Literal[
    "depression_likely", "undetermined", "burnout_pattern", "possible_depression", "low_symptoms"
]
Outcome = Literal[
    "burnout_may_have_become_depression",
    "signs_of_depression",
    "looks_like_burnout",
    "some_signs_of_depression",
    "few_signs",
    "need_more_answers",
]
SafetyLevel = Literal["none", "non_acute", "acute"]
Effect = Literal["route", "exclude", "review", "safety", "note"]
Language = Literal["en", "es"]


class FieldErrorOut(Schema):
    field: str = Field(description='An item id, "answers", "language", a header, or "$".')
    message: str


class Errors(Schema):
    """Every refusal: each field at fault, named the way the contract names it ("$" = the body)."""

    errors: list[FieldErrorOut]


class CrisisResource(Schema):
    id: str
    label: str
    contact: str


class Safety(Schema):
    """Crisis resources are listed whenever the level is not "none"."""

    level: SafetyLevel
    crisis_resources: bool
    resources: list[CrisisResource]


class ScoreOut(Schema):
    total: int | None
    band: str | None
    complete: bool


class Reason(Schema):
    rule: str
    effect: Effect
    answers: dict[str, Any]
    citations: list[str]


class Flag(Schema):
    rule: str
    message: str


class DecisionOut(Schema):
    """The engine's decision, with the reasons behind it and the versions that made it."""

    eligibility: Eligibility = Field(description="The first rule that applies, by precedence.")
    triage: Triage = Field(description="Burnout or depression, reported for everyone.")
    burnout: bool | None = Field(description="Single burnout item >= 3; null when unanswered.")
    outcome: Outcome = Field(description="The plain-language result shown to the person.")
    safety: Safety
    scores: dict[str, ScoreOut] = Field(description="phq2, phq9, gad2, gad7, burnout_single.")
    reasons: list[Reason] = Field(description="Every rule that applied, with answers and sources.")
    sources: dict[str, str] = Field(description="Citation id -> formatted reference.")
    flags: list[Flag] = Field(description="Points for the evaluating physician to review.")
    missing: list[str] = Field(description="Ids still needed for a complete decision.")
    items_asked: list[str] = Field(description="Ids the adaptive flow would have asked.")
    language: Language
    engine_version: str
    knowledge_version: str
    policy_version: str


class AssessmentCreated(Schema):
    """The stored assessment: its id, the decision and the person's private result link."""

    id: str = Field(description="The assessment's public id (a UUID).")
    decision: DecisionOut
    result_url: str = Field(description="Absolute URL of the private result page: a secret.")


class Option(Schema):
    value: int | str
    label: str


class Line(Schema):
    id: str
    text: str


class FlowItem(Schema):
    """One screen. A checklist answers each of its `ids` with one of the options."""

    id: str = Field(description='The screen: an item id, "medical" or "medications".')
    kind: Literal["question", "checklist", "medications"]
    input: Literal["choice", "integer", "us_state", "condition", "medications"]
    text: str
    stem: str = Field(description='The question stem, e.g. "Over the last 2 weeks…", or "".')
    help: str
    options: list[Option] = Field(description="The values to answer with; [] for free input.")
    ids: list[Line] = Field(description="The answer ids this screen sets, with their text.")
    minimum: int | None = Field(description="For integer input.")
    maximum: int | None = Field(description="For integer input.")


class Progress(Schema):
    answered: int = Field(description="Screens answered so far.")
    remaining: int = Field(description="At most this many screens are still to come.")


class FlowNext(Schema):
    """The next screen (null when done), honest progress, and crisis help as soon as needed."""

    done: bool
    item: FlowItem | None
    progress: Progress
    safety: Safety


def request_schemas(k: Knowledge) -> dict[str, Any]:
    """JSON Schemas of the request bodies, generated from the contract's items."""
    answers = {
        "type": "object",
        "description": "Answers keyed by item id; unanswered ids are left out.",
        "properties": {item_id: _item_schema(item) for item_id, item in k.items.items()},
        "additionalProperties": False,
    }
    return {
        "Answers": answers,
        "AssessmentRequest": _request("All the answers given (an incomplete set is accepted)."),
        "FlowRequest": _request("The answers so far."),
    }


def _request(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "answers": {"$ref": "#/components/schemas/Answers"},
            "language": {"type": "string", "enum": list(LANGUAGES), "default": "en"},
        },
        "required": ["answers"],
        "additionalProperties": False,
    }


def _item_schema(item: Item) -> dict[str, Any]:
    text = item.text["en"]
    if item.input == "integer":
        return {
            "type": "integer",
            "minimum": item.minimum,
            "maximum": item.maximum,
            "description": text,
        }
    if item.input == "us_state":
        codes = ", ".join(sorted(US_STATES))
        return {
            "type": "string",
            "pattern": r"^\s*[A-Za-z]{2}\s*$",
            "description": f"{text} USPS code, case-insensitive: {codes}.",
        }
    if item.input == "medications":
        return {
            "type": "array",
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_MEDICATION_LENGTH,
                "pattern": r"\S",  # not spaces alone: the contract refuses a blank name
            },
            "maxItems": MAX_MEDICATIONS,
            "description": "Medicine names as on the label (a dose may follow); [] means none.",
        }
    values = list(item.values)
    kind = "integer" if all(isinstance(v, int) for v in values) else "string"
    return {"type": kind, "enum": values, "description": text}
