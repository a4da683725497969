"""Worked examples for the OpenAPI document, computed by the code they describe.

Each response example is what the engine and the views return for the example request, so the
documentation cannot drift from the behaviour (tests also post the example requests).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.conf import settings
from django.urls import reverse

from crossline.api import assessments, flow, idempotency
from crossline.api.errors import NOT_JSON
from crossline.engine import InvalidInput, Knowledge, assess, parse_request
from crossline.web import MAX_BODY_BYTES

# A burned-out nurse in Florida without depression: the non-drug path, never a ketamine offer.
SUBMIT: dict[str, Any] = {
    "answers": {
        "phq9.1": 1,
        "phq9.2": 0,
        "phq9.9": 0,
        "burnout.single": 4,
        "gad7.1": 1,
        "gad7.2": 1,
        "scope.where": "work",
        "scope.time_off": "lifts",
        "profile.state": "FL",
        "profile.age": 41,
    },
    "language": "en",
}
# Three answers in, item 9 above 0: the next screen is the suicide-risk screen, with help now.
FLOW: dict[str, Any] = {"answers": {"phq9.1": 2, "phq9.2": 2, "phq9.9": 1}, "language": "en"}
INVALID: dict[str, Any] = {
    "answers": {"phq9.1": 4, "profile.age": "34", "phq9.10": 1},
    "language": "fr",
}
EXAMPLE_ID = "3f2b8c1e-5a4d-4e7b-9c1a-2d6e8f0a1b3c"
EXAMPLE_TOKEN = "private-link-token"


def add_to(schema: dict[str, Any], k: Knowledge) -> None:
    operations = {
        op["operationId"]: op for methods in schema["paths"].values() for op in methods.values()
    }
    submit, step = operations["submitAssessment"], operations["flowNext"]
    for op in (submit, step):  # ninja shares the openapi_extra dicts: copy before adding
        op["requestBody"] = copy.deepcopy(op["requestBody"])
    _example(submit["requestBody"], SUBMIT)
    _example(submit["responses"][201], _created(k))
    _example(submit["responses"][409], _errors(idempotency.HEADER, idempotency.CONFLICT))
    _example(submit["responses"][413], _errors("$", f"body larger than {MAX_BODY_BYTES} bytes"))
    _example(submit["responses"][415], _errors("Content-Type", NOT_JSON))
    _example(submit["responses"][422], _invalid(k))
    _example(submit["responses"][429], _errors("$", assessments.TOO_MANY))
    _example(step["requestBody"], FLOW)
    _example(step["responses"][200], flow.next_screen(k, FLOW["answers"], "en"))
    _example(step["responses"][413], _errors("$", f"body larger than {MAX_BODY_BYTES} bytes"))
    _example(step["responses"][415], _errors("Content-Type", NOT_JSON))
    _example(step["responses"][422], _invalid(k))


def _example(target: dict[str, Any], value: Any) -> None:
    target.setdefault("content", {}).setdefault("application/json", {})["example"] = value


def _created(k: Knowledge) -> dict[str, Any]:
    decision = json.loads(json.dumps(assess(k, SUBMIT).to_dict()))
    url = settings.CROSSLINE.base_url + reverse("intake:result", args=[EXAMPLE_TOKEN])
    return {"id": EXAMPLE_ID, "decision": decision, "result_url": url}


def _invalid(k: Knowledge) -> dict[str, Any]:
    try:
        parse_request(k, INVALID)
    except InvalidInput as exc:
        return {"errors": [e.to_dict() for e in exc.errors]}
    raise AssertionError("the invalid example was accepted")


def _errors(field: str, message: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}
