"""POST /api/v1/flow/next: the adaptive flow, screen by screen, with crisis help at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from crossline.engine import Knowledge, walk
from crossline.intake.models import Assessment
from tests.api.conftest import ApiClient
from tests.engine.personas import CHECKLIST_IDS, acute_risk, burned_out_not_depressed
from tests.engine.personas import depressed_adult_in_florida as depressed

pytestmark = pytest.mark.django_db


def take_the_flow(
    api: ApiClient, persona: Mapping[str, Any], language: str = "en"
) -> list[dict[str, Any]]:
    """Answer every screen the API shows from the persona's answers; return each response."""
    answers: dict[str, Any] = {}
    seen = []
    for _ in range(60):
        response = api.next({"answers": answers, "language": language})
        assert response.status_code == 200, response.content
        data = response.json()
        seen.append(data)
        if data["done"]:
            return seen
        for line in data["item"]["ids"]:
            answers[line["id"]] = persona[line["id"]]
    raise AssertionError("the flow never ended")


def asked(responses: list[dict[str, Any]]) -> list[str]:
    return [r["item"]["id"] for r in responses if r["item"]]


def test_a_burned_out_person_is_asked_a_short_flow_without_crisis_resources(
    api: ApiClient, knowledge: Knowledge
) -> None:
    persona = burned_out_not_depressed()
    responses = take_the_flow(api, persona)
    assert asked(responses) == [
        "phq9.1",
        "phq9.2",
        "phq9.9",
        "burnout.single",
        "gad7.1",
        "gad7.2",
        "scope.where",
        "scope.time_off",
        "profile.state",
        "profile.age",
    ]
    assert all(
        r["safety"] == {"level": "none", "crisis_resources": False, "resources": []}
        for r in responses
    )
    last = responses[-1]
    assert last == {**last, "done": True, "item": None}
    assert last["progress"] == {"answered": 10, "remaining": 0}
    assert [r["progress"]["answered"] for r in responses] == list(range(11))
    assert asked(responses) == list(walk(knowledge, persona).asked)
    assert Assessment.objects.count() == 0  # nothing stored


def test_progress_never_promises_less_than_is_left(api: ApiClient) -> None:
    responses = take_the_flow(api, depressed())
    for i, r in enumerate(responses):
        assert r["progress"]["answered"] == i
        assert r["progress"]["remaining"] >= len(responses) - 1 - i


def test_an_acute_risk_shows_crisis_resources_right_after_item_9(api: ApiClient) -> None:
    responses = take_the_flow(api, acute_risk())
    ids = asked(responses)
    assert ids[:3] == ["phq9.1", "phq9.2", "phq9.9"]
    before, after = responses[:3], responses[3:]
    assert all(r["safety"]["crisis_resources"] is False for r in before)
    assert after[0]["item"]["id"] == "asq.1"  # the suicide-risk screen comes next
    for r in after:
        assert r["safety"]["crisis_resources"] is True
        assert r["safety"]["level"] == "acute"
        contacts = {res["contact"] for res in r["safety"]["resources"]}
        assert {"tel:988", "sms:988", "tel:911"} <= contacts
    assert ids[3:] == ["asq.1", "asq.2", "asq.3", "asq.4", "asq.5"]
    assert responses[-1]["done"] is True and responses[-1]["item"] is None


def test_crisis_resources_come_in_spanish_for_a_spanish_flow(api: ApiClient) -> None:
    data = api.next({"answers": {"phq9.1": 1, "phq9.2": 1, "phq9.9": 1}, "language": "es"}).json()
    labels = " ".join(r["label"] for r in data["safety"]["resources"])
    assert "AYUDA" in labels
    assert data["item"]["text"].startswith("En las últimas semanas")


def test_a_non_acute_answer_keeps_resources_on_screen(api: ApiClient) -> None:
    answers = {"phq9.1": 1, "phq9.2": 1, "phq9.9": 1, "asq.1": "no", "asq.2": "no"}
    answers |= {"asq.3": "no", "asq.4": "yes", "asq.5": "no"}
    data = api.next({"answers": answers}).json()
    assert data["safety"]["level"] == "non_acute"
    assert data["safety"]["crisis_resources"] is True
    assert data["done"] is False


def test_an_unprompted_risk_answer_still_shows_crisis_resources(api: ApiClient) -> None:
    """Safety is judged on every answer given, not only on those the flow has reached."""
    data = api.next({"answers": {"asq.5": "yes"}}).json()
    assert data["item"]["id"] == "phq9.1"
    assert data["safety"]["crisis_resources"] is True


def test_a_question_item_carries_what_a_client_needs_to_render_it(api: ApiClient) -> None:
    item = api.next({"answers": {}}).json()["item"]
    assert item["id"] == "phq9.1" and item["kind"] == "question" and item["input"] == "choice"
    assert item["stem"].startswith("Over the last 2 weeks")
    assert item["text"] == "Little interest or pleasure in doing things"
    assert [o["value"] for o in item["options"]] == [0, 1, 2, 3]
    assert item["options"][3]["label"] == "Nearly every day"
    assert item["ids"] == [{"id": "phq9.1", "text": item["text"]}]


def test_the_age_question_gives_its_range_and_the_state_question_its_options(
    api: ApiClient,
) -> None:
    answers = {k: v for k, v in burned_out_not_depressed().items() if k != "profile.age"}
    age = api.next({"answers": answers}).json()["item"]
    assert (age["id"], age["input"], age["minimum"], age["maximum"]) == (
        "profile.age",
        "integer",
        0,
        120,
    )
    answers.pop("profile.state")
    state = api.next({"answers": answers}).json()["item"]
    assert state["input"] == "us_state"
    assert {"value": "FL", "label": "Florida (FL)"} in state["options"]
    # In Spanish, ordered as a reader looks for them: Míchigan after Massachusetts, not Montana.
    spanish = api.next({"answers": answers, "language": "es"}).json()["item"]
    codes = [o["value"] for o in spanish["options"] if o["value"] in ("MA", "MI", "MN", "MT")]
    assert codes == ["MA", "MI", "MN", "MT"]


def test_a_depressed_adult_in_the_area_gets_the_checklist_then_medications(
    api: ApiClient,
) -> None:
    responses = take_the_flow(api, depressed())
    items = [r["item"] for r in responses if r["item"]]
    checklist = next(i for i in items if i["kind"] == "checklist")
    assert checklist["id"] == "medical"
    assert [line["id"] for line in checklist["ids"]] == list(CHECKLIST_IDS)
    assert all(line["text"] for line in checklist["ids"])
    assert [o["value"] for o in checklist["options"]] == ["yes", "no", "unsure"]
    medications = next(i for i in items if i["kind"] == "medications")
    assert medications["ids"] == [{"id": "medications", "text": medications["text"]}]
    assert medications["text"]
    assert asked(responses)[-1] == "history.antidepressant_trials"


def test_the_walked_answers_submit_to_the_decision_the_flow_promised(api: ApiClient) -> None:
    persona = burned_out_not_depressed()
    responses = take_the_flow(api, persona)
    answers = {i: persona[i] for i in asked(responses)}
    decision = api.submit({"answers": answers}).json()["decision"]
    assert decision["eligibility"] == "not_indicated"
    assert decision["outcome"] == "looks_like_burnout"
    assert decision["items_asked"] == list(answers)
