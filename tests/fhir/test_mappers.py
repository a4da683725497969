"""The FHIR mappers: the assessment Questionnaire, responses both ways, score Observations.

fhir.resources checks structure and types, not code values, so the codes are checked here
against the knowledge base, which carries them with their sources (FACTS §A1–§A4b).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import InvalidInput, evaluate, parse_answers
from crossline.fhir import InvalidResource, observation, questionnaire, response, validate
from crossline.fhir.codes import LOINC, ORDINAL_VALUE, TRANSLATION, USPS, answers_system
from crossline.knowledge import load
from tests.engine.personas import depressed_adult_in_florida, without
from tests.engine.test_properties import ANSWERS

K = load()
BASE = "https://crossline.example.org/fhir/r4"
QUESTIONNAIRE = questionnaire.assessment(K, BASE)
ITEM_TYPES = {"group", "choice", "open-choice", "integer", "display"}


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def questions(q: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["linkId"]: i for i in walk(q["item"]) if i["type"] not in ("group", "display")}


def translation(element: dict[str, Any], name: str) -> str:
    (ext,) = element[f"_{name}"]["extension"]
    assert ext["url"] == TRANSLATION
    parts = {e["url"]: e.get("valueCode", e.get("valueString")) for e in ext["extension"]}
    assert parts["lang"] == "es"
    return str(parts["content"])


# --- the Questionnaire ----------------------------------------------------------------------


def test_the_questionnaire_is_valid_fhir() -> None:
    validate(QUESTIONNAIRE)
    assert QUESTIONNAIRE["status"] == "active"
    assert QUESTIONNAIRE["version"] == K.version
    assert {i["type"] for i in walk(QUESTIONNAIRE["item"])} <= ITEM_TYPES


def test_every_contract_id_is_one_question_and_every_link_id_is_unique() -> None:
    link_ids = [i["linkId"] for i in walk(QUESTIONNAIRE["item"])]
    assert len(link_ids) == len(set(link_ids))
    assert set(questions(QUESTIONNAIRE)) == set(K.items)


def test_no_question_is_required_because_missing_is_never_zero() -> None:
    assert not any(i.get("required") for i in walk(QUESTIONNAIRE["item"]))


def test_question_texts_are_the_knowledge_base_texts_in_both_languages() -> None:
    for link_id, q in questions(QUESTIONNAIRE).items():
        item = K.items[link_id]
        assert q["text"] == item.text["en"]
        assert translation(q, "text") == item.text["es"]
        if link_id in ("medications", "profile.state"):
            continue  # the states and the answer "none": checked below
        for option, given_option in zip(item.options, q.get("answerOption", []), strict=True):
            assert given_option["valueCoding"]["display"] == option.text["en"]
            assert translation(given_option["valueCoding"], "display") == option.text["es"]


def test_the_form_opens_with_the_crisis_line() -> None:
    first = QUESTIONNAIRE["item"][0]
    assert (first["linkId"], first["type"]) == ("crisis", "display")
    assert first["text"] == "In crisis? Call or text 988 — or 911 in danger"
    assert translation(first, "text").startswith(
        "¿En crisis? Llame al 988 y oprima 2, o envíe AYUDA"
    )


def crisis_group(section: str) -> dict[str, Any]:
    group = next(g for g in QUESTIONNAIRE["item"] if g["linkId"] == section)
    return next(i for i in group["item"] if i["linkId"] == f"{section}.crisis")


def test_the_crisis_resources_appear_when_item_9_is_above_not_at_all() -> None:
    phq9 = next(g for g in QUESTIONNAIRE["item"] if g["linkId"] == "phq9")
    order = [i["linkId"] for i in phq9["item"]]
    assert order[order.index("phq9.9") + 1] == "phq9.crisis"  # right under the risky answer
    crisis = crisis_group("phq9")
    assert crisis["enableBehavior"] == "any"
    assert [
        (w["question"], w["operator"], w["answerCoding"]["code"]) for w in crisis["enableWhen"]
    ] == [
        ("phq9.9", "=", "LA6569-3"),  # several days
        ("phq9.9", "=", "LA6570-1"),  # more than half the days
        ("phq9.9", "=", "LA6571-9"),  # nearly every day
    ]
    shown = [i["text"] for i in crisis["item"]]
    assert shown[0] == "In crisis? Call or text 988 — or 911 in danger"
    assert shown[1:] == [r.label["en"] for r in K.resources]
    assert any("press 2" in t for t in shown) and any("911" in t for t in shown)


def test_the_crisis_resources_appear_on_any_asq_yes_or_refusal() -> None:
    when = {(w["question"], w["answerCoding"]["code"]) for w in crisis_group("asq")["enableWhen"]}
    assert when == {
        (item, code) for item in ("asq.1", "asq.2", "asq.3", "asq.4", "asq.5")
        for code in ("LA33-6", "refused")
    }  # fmt: skip


def test_no_other_group_holds_crisis_items() -> None:
    holders = {g["linkId"] for g in QUESTIONNAIRE["item"] for i in g.get("item", [])
               if i["linkId"].endswith(".crisis")}  # fmt: skip
    assert holders == {"phq9", "asq"}


def test_each_instrument_opens_with_its_own_instruction() -> None:
    groups = {g["linkId"]: g for g in QUESTIONNAIRE["item"]}
    for section in ("phq9", "gad7", "asq", "burnout"):
        first = groups[section]["item"][0]
        assert (first["linkId"], first["type"]) == (f"{section}.stem", "display")
        assert first["text"] == K.instruments[section].stem["en"]
        assert translation(first, "text") == K.instruments[section].stem["es"]
    assert groups["phq9"]["item"][0]["text"].startswith("Over the last 2 weeks")


def test_a_questionnaire_in_spanish_keeps_english_as_the_translation() -> None:
    spanish = questionnaire.assessment(K, BASE, "es")
    validate(spanish)
    phq1 = questions(spanish)["phq9.1"]
    assert spanish["language"] == "es"
    assert phq1["text"] == K.items["phq9.1"].text["es"]


def test_loinc_codes_are_the_knowledge_base_codes() -> None:
    groups = {g["linkId"]: g for g in QUESTIONNAIRE["item"]}
    assert groups["phq9"]["code"] == [{"system": LOINC, "code": "44249-1"}]
    assert groups["gad7"]["code"] == [{"system": LOINC, "code": "69737-5"}]
    assert "code" not in groups["asq"]  # no LOINC panel for the ASQ (FACTS §A4b)
    qs = questions(QUESTIONNAIRE)
    assert qs["phq9.9"]["code"] == [{"system": LOINC, "code": "44260-8"}]
    for link_id, q in qs.items():
        item = K.items[link_id]
        assert q.get("code") == ([{"system": LOINC, "code": item.loinc}] if item.loinc else None)
        if link_id in ("medications", "profile.state"):
            continue
        for option, given_option in zip(item.options, q.get("answerOption", []), strict=True):
            coding = given_option["valueCoding"]
            if option.loinc:
                assert (coding["system"], coding["code"]) == (LOINC, option.loinc)
            else:
                assert (coding["system"], coding["code"]) == (
                    answers_system(BASE),
                    str(option.value),
                )


def test_scored_answers_carry_their_value_and_nothing_else_does() -> None:
    qs = questions(QUESTIONNAIRE)
    ordinals = [
        ext["valueDecimal"]
        for ext in (o.get("extension", [{}])[0] for o in qs["phq9.1"]["answerOption"])
    ]
    assert ordinals == [0, 1, 2, 3]
    assert all(
        "extension" not in o
        for link_id in ("asq.1", "scope.where", "medical.heart")
        for o in qs[link_id]["answerOption"]
    )
    assert qs["phq9.1"]["answerOption"][0]["extension"][0]["url"] == ORDINAL_VALUE


def test_free_answers_have_their_kind_and_range() -> None:
    qs = questions(QUESTIONNAIRE)
    states = [o["valueCoding"] for o in qs["profile.state"]["answerOption"]]
    assert {c["system"] for c in states} == {USPS}
    assert {c["code"] for c in states} == K.accepted_strings["profile.state"]  # every USPS code
    assert {"code": "FL", "display": "Florida", "system": USPS} in states
    assert (qs["medications"]["type"], qs["medications"]["repeats"]) == ("open-choice", True)
    (none,) = qs["medications"]["answerOption"]
    assert none["valueCoding"]["code"] == "none"
    assert none["valueCoding"]["display"] == "I take no medicines or supplements"
    assert translation(none["valueCoding"], "display") == "No tomo medicamentos ni suplementos"
    age = {e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in qs["profile.age"]["extension"]}
    assert (qs["profile.age"]["type"], age) == ("integer", {"minValue": 0, "maxValue": 120})


def test_the_licences_of_the_instruments_are_in_the_copyright() -> None:
    assert "No permission required to reproduce" in QUESTIONNAIRE["copyright"]  # Pfizer (PHQ, GAD)
    assert "National Institute of Mental Health" in QUESTIONNAIRE["copyright"]  # the ASQ


# --- responses ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(ANSWERS)
def test_any_valid_answers_survive_a_round_trip_through_a_response(raw: dict[str, Any]) -> None:
    answers = parse_answers(K, raw)
    qr = response.from_answers(K, answers, BASE, authored="2026-11-28T10:00:00Z")
    validate(qr)
    back = response.to_answers(K, json.loads(json.dumps(qr)), BASE)
    assert parse_answers(K, back) == answers  # contract answers, validated as any others


def test_a_response_leaves_unanswered_questions_out() -> None:
    answers = parse_answers(K, without(depressed_adult_in_florida(), "phq9.3"))
    qr = response.from_answers(K, answers, BASE)
    answered = {i["linkId"] for i in walk(qr["item"]) if "answer" in i}
    assert "phq9.3" not in answered
    assert answered == set(answers)


def test_a_response_answers_with_the_questionnaire_codes() -> None:
    answers = parse_answers(K, depressed_adult_in_florida({"phq9.1": 2, "profile.state": "fl"}))
    qs = {i["linkId"]: i for i in walk(response.from_answers(K, answers, BASE)["item"])}
    assert qs["phq9.1"]["answer"] == [
        {
            "valueCoding": {
                "system": LOINC,
                "code": "LA6570-1",
                "display": "More than half the days",
            }
            | {"_display": qs["phq9.1"]["answer"][0]["valueCoding"]["_display"]}
        }
    ]
    assert qs["profile.state"]["answer"] == [{"valueCoding": {"system": USPS, "code": "FL"}}]


def test_taking_no_medicines_is_an_answer_and_no_answer_is_not() -> None:
    none = response.from_answers(K, {"medications": ()}, BASE)
    assert none["item"][0]["answer"][0]["valueCoding"]["code"] == "none"
    assert response.to_answers(K, none, BASE) == {"medications": []}
    assert response.from_answers(K, {}, BASE)["item"] == []
    mixed = _response(
        {"medications": [none["item"][0]["answer"][0], {"valueString": "sertraline"}]}
    )
    with pytest.raises(InvalidInput, match="lists medicines and also answers that there are none"):
        response.to_answers(K, mixed, BASE)


def test_the_gad7_alias_answer_code_reads_as_its_value() -> None:
    # FACTS §A3: LOINC lists LA18938-3 "More days than not" for item 2's value 2.
    qr = _response({"gad7.2": [{"valueCoding": {"system": LOINC, "code": "LA18938-3"}}]})
    assert response.to_answers(K, qr, BASE) == {"gad7.2": 2}


@pytest.mark.parametrize(
    ("link_id", "answer", "message"),
    [
        ("phq9.10", [{"valueInteger": 1}], "is not a question of the crossline assessment"),
        ("phq9.1", [{"valueInteger": 1}], "each answer must be a valueCoding"),
        ("phq9.1", [{"valueCoding": {"system": LOINC, "code": "LA33-6"}}], "not one of"),
        ("phq9.1", [{"valueCoding": {"system": "http://snomed.info/sct", "code": "1"}}], "from"),
        ("asq.1", [{"valueCoding": {"system": LOINC, "code": "LA33-6"}}] * 2, "takes one answer"),
        ("profile.age", [{"valueString": "40"}], "each answer must be a valueInteger"),
        ("medications", [{"valueInteger": 3}], "each answer must be a valueString"),
        # JSON null is no value (found by the property test below, run at 10× its examples)
        ("profile.age", [{"valueInteger": None}], "each answer must be a valueInteger"),
        ("medications", [{"valueString": None}], "each answer must be a valueString"),
        ("profile.age", [{"valueInteger": False}], "each answer must be a valueInteger"),
        ("profile.age", [{"valueInteger": 40.5}], "each answer must be a valueInteger"),
        ("medications", [{"valueString": 7}], "each answer must be a valueString"),
    ],
)
def test_an_unreadable_answer_is_refused_naming_its_link_id(
    link_id: str, answer: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        response.to_answers(K, _response({link_id: answer}), BASE)
    (error,) = refused.value.errors
    assert error.field == link_id
    assert message in error.message


def test_a_question_answered_twice_is_refused() -> None:
    qr = _response(
        {"burnout.single": [{"valueCoding": {"system": answers_system(BASE), "code": "3"}}]}
    )
    qr["item"].append(qr["item"][0])
    with pytest.raises(InvalidInput) as refused:
        response.to_answers(K, qr, BASE)
    assert [e.field for e in refused.value.errors] == ["burnout.single"]


def _response(answers: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    items = [{"linkId": link_id, "answer": given} for link_id, given in answers.items()]
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": items}


# --- Observations ---------------------------------------------------------------------------


def test_complete_coded_totals_become_observations() -> None:
    decision = evaluate(K, parse_answers(K, depressed_adult_in_florida())).to_dict()
    found = observation.scores(K, decision, "2026-11-28T10:00:00Z", "urn:uuid:1")
    for resource in found:
        validate(resource)
    by_code = {o["code"]["coding"][0]["code"]: o for o in found}
    assert by_code["44261-6"]["valueQuantity"]["value"] == decision["scores"]["phq9"]["total"]
    assert by_code["44261-6"]["derivedFrom"] == [{"reference": "urn:uuid:1"}]
    assert by_code["44261-6"]["valueQuantity"]["code"] == "{score}"
    # The PHQ-2 is items 1–2 of the PHQ-9: its total has its own LOINC code (FACTS §A2).
    assert by_code["55758-7"]["valueQuantity"]["value"] == decision["scores"]["phq2"]["total"]
    # The GAD-2 and the burnout item have no LOINC code in the knowledge base: no Observation.
    assert set(by_code) <= {"44261-6", "55758-7", "70274-6"}


def test_a_negative_phq2_alone_is_an_observation() -> None:
    """A screen whose PHQ-2 was negative never asks the rest of the PHQ-9: the EHR still gets
    the depression screen's result, the PHQ-2 total."""
    answers = parse_answers(K, {"phq9.1": 0, "phq9.2": 1, "phq9.9": 0})
    decision = evaluate(K, answers).to_dict()
    found = observation.scores(K, decision, "2026-11-28T10:00:00Z")
    assert [(o["code"]["coding"][0]["code"], o["valueQuantity"]["value"]) for o in found] == [
        ("55758-7", 1)
    ]
    validate(found[0])


def test_an_incomplete_total_is_not_an_observation() -> None:
    answers = parse_answers(
        K, without(depressed_adult_in_florida(), "phq9.1", "phq9.3", "gad7.1", "gad7.7")
    )
    decision = evaluate(K, answers).to_dict()
    assert decision["scores"]["phq9"]["complete"] is False
    assert decision["scores"]["phq2"]["complete"] is False
    assert observation.scores(K, decision, "2026-11-28T10:00:00Z") == []


# --- validation and purity ------------------------------------------------------------------


def test_validation_names_the_fhir_path_at_fault() -> None:
    broken = json.loads(json.dumps(QUESTIONNAIRE))
    (i, phq9) = next((i, g) for i, g in enumerate(broken["item"]) if g["linkId"] == "phq9")
    (j, phq1) = next((j, q) for j, q in enumerate(phq9["item"]) if q["linkId"] == "phq9.1")
    phq1["answerOption"][0]["valueCoding"]["code"] = 42
    with pytest.raises(InvalidResource, match=rf"item\.{i}\.item\.{j}\.answerOption\.0"):
        validate(broken)
    with pytest.raises(InvalidResource, match="unknown type"):
        validate({"resourceType": "Nonsense"})


def test_the_engine_and_the_mappers_import_nothing_from_django() -> None:
    code = (
        "import sys, crossline.engine, crossline.fhir;"
        " print(any(m.startswith('django') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Damage a valid response in one place: what a broken or hostile FHIR client could send.
def _damaged(draw: Any) -> dict[str, Any]:
    answers = parse_answers(K, draw(ANSWERS))
    qr = json.loads(json.dumps(response.from_answers(K, answers, BASE)))
    keys = st.sampled_from(["valueCoding", "valueInteger", "valueString", "linkId", "code"])
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    junk = draw(
        scalars
        | st.lists(st.integers(), max_size=2)
        | st.dictionaries(keys, st.integers() | st.text(max_size=6), max_size=2)
    )
    items = list(walk(qr["item"]))
    where = draw(st.sampled_from(["top", "item", "answer", "coding"]))
    if where == "top":
        qr[
            draw(st.sampled_from(["status", "questionnaire", "language", "item", "resourceType"]))
        ] = junk
    elif items:
        item = draw(st.sampled_from(items))
        if where == "item":
            item[draw(st.sampled_from(["linkId", "answer", "item"]))] = junk
        elif item.get("answer"):
            answer = item["answer"][0]
            if where == "answer":
                answer[draw(st.sampled_from(["valueCoding", "valueInteger", "valueString"]))] = junk
            elif "valueCoding" in answer:
                answer["valueCoding"][draw(st.sampled_from(["code", "system"]))] = junk
    return qr


# 600 examples: at 200 it missed two kinds of damage (a null and a false valueInteger) that a
# run at 2,000 found.
@settings(max_examples=600, deadline=None)
@given(st.data())
def test_a_damaged_response_is_read_or_refused_naming_a_field_never_a_crash(data: Any) -> None:
    qr = _damaged(data.draw)
    try:
        body = response.to_request(K, qr, BASE)
    except InvalidInput as exc:
        assert exc.errors and all(e.field and e.message for e in exc.errors)
        return
    # What is read is answers of the right types; their ranges are the contract's to check, and
    # its refusal names the question (an item id is its linkId): a blood pressure of 0 is read,
    # then refused as "medical.bp_systolic: must be an integer from 50 to 300".
    try:
        parse_answers(K, body["answers"])
    except InvalidInput as exc:
        assert all(e.field.split("[")[0] in body["answers"] for e in exc.errors), exc.errors
