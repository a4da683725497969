"""The assessment contract: strict types, errors that name the field, verbatim instrument text.

PRODUCT.md, "The assessment contract". Invalid input raises `InvalidInput`, whose errors each name
the field as the contract names it; nothing is evaluated.
"""

from __future__ import annotations

from typing import Any

import pytest

from crossline.engine import InvalidInput, Knowledge, assess, parse_answers, parse_request
from tests.engine.personas import candidate_ready


def fields_of_error(knowledge: Knowledge, body: object) -> list[str]:
    with pytest.raises(InvalidInput) as exc:
        assess(knowledge, body)
    return [e.field for e in exc.value.errors]


def answer_errors(knowledge: Knowledge, answers: dict[str, Any]) -> list[str]:
    return fields_of_error(knowledge, {"answers": answers})


# --- invalid answers name the field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"phq9.10": 1}, "phq9.10"),
        ({"gad7.difficulty": 1}, "gad7.difficulty"),
        ({"medical.diabetes": "yes"}, "medical.diabetes"),
        ({"phq9.1": 4}, "phq9.1"),
        ({"phq9.1": -1}, "phq9.1"),
        ({"gad7.7": 4}, "gad7.7"),
        ({"phq9.difficulty": 4}, "phq9.difficulty"),
        ({"burnout.single": 0}, "burnout.single"),
        ({"burnout.single": 6}, "burnout.single"),
        ({"profile.age": 121}, "profile.age"),
        ({"profile.age": -1}, "profile.age"),
        ({"medical.bp_systolic": 301}, "medical.bp_systolic"),
        ({"medical.bp_systolic": 49}, "medical.bp_systolic"),
        ({"medical.bp_diastolic": 201}, "medical.bp_diastolic"),
        ({"history.antidepressant_trials": 4}, "history.antidepressant_trials"),
    ],
    ids=lambda v: str(v),
)
def test_unknown_ids_and_out_of_range_values_are_rejected(
    knowledge: Knowledge, answers: dict[str, Any], field: str
) -> None:
    assert answer_errors(knowledge, answers) == [field]


@pytest.mark.parametrize("value", [True, False, 2.0, "2", None, [2], {"value": 2}])
@pytest.mark.parametrize(
    "field", ["phq9.1", "profile.age", "burnout.single", "medical.bp_systolic"]
)
def test_an_integer_must_be_a_json_integer(knowledge: Knowledge, field: str, value: object) -> None:
    assert answer_errors(knowledge, {field: value}) == [field]


@pytest.mark.parametrize("value", ["XX", "Florida", "", "F", "USA", 12, None])
def test_a_state_must_be_a_usps_code(knowledge: Knowledge, value: object) -> None:
    assert answer_errors(knowledge, {"profile.state": value}) == ["profile.state"]


@pytest.mark.parametrize("value", ["maybe", "YES", "Yes", True, 1, None])
def test_an_asq_answer_must_be_yes_no_or_refused(knowledge: Knowledge, value: object) -> None:
    assert answer_errors(knowledge, {"asq.1": value}) == ["asq.1"]


@pytest.mark.parametrize("value", ["maybe", "refused", True, None])
def test_a_medical_answer_must_be_yes_no_or_unsure(knowledge: Knowledge, value: object) -> None:
    assert answer_errors(knowledge, {"medical.pregnant": value}) == ["medical.pregnant"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("scope.where", "home"), ("scope.time_off", "never"), ("scope.where", 1)],
)
def test_scope_answers_are_a_closed_list(knowledge: Knowledge, field: str, value: object) -> None:
    assert answer_errors(knowledge, {field: value}) == [field]


@pytest.mark.parametrize("value", ["Xanax", None, {"name": "Xanax"}, ("Xanax",)])
def test_medications_must_be_a_list(knowledge: Knowledge, value: object) -> None:
    assert answer_errors(knowledge, {"medications": value}) == ["medications"]


def test_an_empty_medicine_name_is_rejected_by_position(knowledge: Knowledge) -> None:
    assert answer_errors(knowledge, {"medications": ["", "Xanax"]}) == ["medications[0]"]
    assert answer_errors(knowledge, {"medications": ["Xanax", "   "]}) == ["medications[1]"]


def test_a_number_in_the_medication_list_is_rejected_by_position(knowledge: Knowledge) -> None:
    assert answer_errors(knowledge, {"medications": ["Xanax", 5]}) == ["medications[1]"]


def test_an_over_long_medication_list_or_name_is_rejected(knowledge: Knowledge) -> None:
    assert answer_errors(knowledge, {"medications": ["x" * 201]}) == ["medications[0]"]
    assert answer_errors(knowledge, {"medications": ["Xanax"] * 51}) == ["medications"]


def test_several_errors_are_reported_together(knowledge: Knowledge) -> None:
    fields = answer_errors(
        knowledge,
        {"phq9.1": 4, "profile.age": 121, "profile.state": "XX", "nonsense": 1, "phq9.2": 1},
    )
    assert sorted(fields) == ["nonsense", "phq9.1", "profile.age", "profile.state"]


def test_an_error_message_says_what_is_allowed(knowledge: Knowledge) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_answers(knowledge, {"phq9.1": 4})
    (error,) = exc.value.errors
    assert error.to_dict() == {"field": "phq9.1", "message": error.message}
    assert "0" in error.message and "3" in error.message
    assert "phq9.1" in str(exc.value)


# --- the request body -----------------------------------------------------------------------------


def test_an_unsupported_language_is_rejected(knowledge: Knowledge) -> None:
    assert fields_of_error(knowledge, {"answers": {}, "language": "fr"}) == ["language"]
    assert fields_of_error(knowledge, {"answers": {}, "language": None}) == ["language"]


def test_an_unknown_top_level_key_is_rejected(knowledge: Knowledge) -> None:
    assert fields_of_error(knowledge, {"answers": {}, "lang": "es"}) == ["lang"]


def test_answers_must_be_an_object(knowledge: Knowledge) -> None:
    assert fields_of_error(knowledge, {"answers": [["phq9.1", 1]]}) == ["answers"]
    assert fields_of_error(knowledge, {"answers": None}) == ["answers"]


def test_answers_are_required(knowledge: Knowledge) -> None:
    assert fields_of_error(knowledge, {"language": "en"}) == ["answers"]


@pytest.mark.parametrize("body", [None, [], "answers", 1, [{"answers": {}}]])
def test_the_body_must_be_an_object(knowledge: Knowledge, body: object) -> None:
    assert fields_of_error(knowledge, body) == ["$"]


def test_body_and_answer_errors_are_reported_together(knowledge: Knowledge) -> None:
    fields = fields_of_error(knowledge, {"answers": {"phq9.1": 9}, "language": "fr", "x": 1})
    assert sorted(fields) == ["language", "phq9.1", "x"]


def test_language_defaults_to_english(knowledge: Knowledge) -> None:
    assert parse_request(knowledge, {"answers": {}}).language == "en"
    assert parse_request(knowledge, {"answers": {}, "language": "es"}).language == "es"


# --- valid edges are accepted --------------------------------------------------------------------


@pytest.mark.parametrize("age", [0, 17, 18, 120])
def test_ages_from_0_to_120_are_valid(knowledge: Knowledge, age: int) -> None:
    assert parse_answers(knowledge, {"profile.age": age}) == {"profile.age": age}


@pytest.mark.parametrize("code", ["PR", "GU", "VI", "AS", "MP", "DC", "AK", "HI", "WY"])
def test_dc_and_the_territories_are_valid_states(knowledge: Knowledge, code: str) -> None:
    assert parse_answers(knowledge, {"profile.state": code.lower()}) == {"profile.state": code}


def test_a_state_is_normalised_to_upper_case(knowledge: Knowledge) -> None:
    assert parse_answers(knowledge, {"profile.state": " nj "}) == {"profile.state": "NJ"}


def test_blood_pressure_edges_are_valid(knowledge: Knowledge) -> None:
    edges = {"medical.bp_systolic": 300, "medical.bp_diastolic": 30}
    assert parse_answers(knowledge, edges) == edges
    edges = {"medical.bp_systolic": 50, "medical.bp_diastolic": 200}
    assert parse_answers(knowledge, edges) == edges


def test_every_contract_value_of_every_choice_item_is_accepted(knowledge: Knowledge) -> None:
    for item in knowledge.items.values():
        for option in item.options:
            assert parse_answers(knowledge, {item.id: option.value}) == {item.id: option.value}


def test_a_full_persona_is_valid(knowledge: Knowledge) -> None:
    answers = candidate_ready()
    assert parse_answers(knowledge, answers) == {**answers, "medications": ()}


def test_medicine_names_keep_their_text_with_spacing_collapsed(knowledge: Knowledge) -> None:
    parsed = parse_answers(knowledge, {"medications": ["  Xanax   0.5 mg ", "Zoloft"]})
    assert list(parsed["medications"]) == ["Xanax 0.5 mg", "Zoloft"]


def test_the_contract_ids_are_all_known(knowledge: Knowledge) -> None:
    ids = {
        "profile.state",
        "profile.age",
        "phq9.difficulty",
        "burnout.single",
        "scope.where",
        "scope.time_off",
        "medical.bp_systolic",
        "medical.bp_diastolic",
        "medications",
        "history.antidepressant_trials",
        "asq.5",
        *(f"phq9.{i}" for i in range(1, 10)),
        *(f"gad7.{i}" for i in range(1, 8)),
        *(f"asq.{i}" for i in range(1, 5)),
    }
    assert ids <= set(knowledge.items)


def test_the_gad7_has_no_difficulty_item(knowledge: Knowledge) -> None:
    assert "gad7.difficulty" not in knowledge.items


# --- codes and wording ----------------------------------------------------------------------------


def loinc_of(knowledge: Knowledge, item_id: str) -> dict[object, str | None]:
    return {o.value: o.loinc for o in knowledge.items[item_id].options}


def test_the_phq9_difficulty_loinc_trap_is_pinned(knowledge: Knowledge) -> None:
    # LOINC's codes are not in display order: LA6575-0 is "Very difficult" (2) and LA6574-3 is
    # "Extremely difficult" (3) — FACTS §A1.
    options = {o.value: o for o in knowledge.items["phq9.difficulty"].options}
    assert (options[2].loinc, options[2].text["en"]) == ("LA6575-0", "Very difficult")
    assert (options[3].loinc, options[3].text["en"]) == ("LA6574-3", "Extremely difficult")
    assert loinc_of(knowledge, "phq9.difficulty") == {
        0: "LA6572-7",
        1: "LA6573-5",
        2: "LA6575-0",
        3: "LA6574-3",
    }


def test_the_phq9_frequency_options_carry_their_loinc_answer_codes(knowledge: Knowledge) -> None:
    expected = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
    for i in range(1, 10):
        assert loinc_of(knowledge, f"phq9.{i}") == expected


def test_the_phq9_item_9_and_panel_codes(knowledge: Knowledge) -> None:
    assert knowledge.items["phq9.9"].loinc == "44260-8"
    assert knowledge.instruments["phq9"].loinc_panel == "44249-1"
    assert knowledge.instruments["phq9"].loinc_total == "44261-6"
    assert knowledge.instruments["gad7"].loinc_panel == "69737-5"


# Wording copied from shared/clinical/SPANISH.md (§A.2 PHQ-9, §B.2 GAD-7, §C.2 ASQ). The English
# column is canonical for English too; the Spanish is Pfizer "Spanish for the USA" and NIMH.
VERBATIM = [
    (
        "phq9.1",
        "Little interest or pleasure in doing things",
        "Poco interés o placer en hacer cosas",
    ),
    (
        "phq9.2",
        "Feeling down, depressed, or hopeless",
        "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
    ),
    (
        "phq9.6",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your"
        " family down",
        "Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal con"
        " usted mismo(a) o con su familia",
    ),
    (
        "phq9.8",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite —"
        " being so fidgety or restless that you have been moving around a lot more than usual",
        "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo"
        " contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo"
        " normal",
    ),
    (
        "phq9.9",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
    ),
    (
        "phq9.difficulty",
        "If you checked off any problems, how difficult have these problems made it for you to do"
        " your work, take care of things at home, or get along with other people?",
        "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos problemas"
        " para hacer su trabajo, encargarse de las tareas del hogar, o llevarse bien con otras"
        " personas?",
    ),
    (
        "gad7.1",
        "Feeling nervous, anxious or on edge",
        "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    ),
    (
        "gad7.2",
        "Not being able to stop or control worrying",
        "No ha sido capaz de parar o controlar su preocupación",
    ),
    (
        "gad7.7",
        "Feeling afraid as if something awful might happen",
        "Ha tenido miedo de que algo terrible fuera a pasar",
    ),
    (
        "asq.1",
        "In the past few weeks, have you wished you were dead?",
        "En las últimas semanas, ¿ha deseado estar muerto?",
    ),
    (
        "asq.2",
        "In the past few weeks, have you felt that you or your family would be better off if you"
        " were dead?",
        "En las últimas semanas, ¿ha sentido que usted o su familia estarían mejor si estuviera"
        " muerto?",
    ),
    (
        "asq.3",
        "In the past week, have you been having thoughts about killing yourself?",
        "En la última semana, ¿ha estado pensando en suicidarse?",
    ),
    (
        "asq.4",
        "Have you ever tried to kill yourself?",
        "¿Alguna vez ha intentado suicidarse?",
    ),
    (
        "asq.5",
        "Are you having thoughts of killing yourself right now?",
        "¿Está pensando en suicidarse en este momento?",
    ),
]


@pytest.mark.parametrize(("item_id", "en", "es"), VERBATIM, ids=[v[0] for v in VERBATIM])
def test_validated_instrument_wording_is_verbatim(
    knowledge: Knowledge, item_id: str, en: str, es: str
) -> None:
    assert knowledge.items[item_id].text == {"en": en, "es": es}


def test_the_phq9_and_gad7_stems_are_verbatim(knowledge: Knowledge) -> None:
    spanish = "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los"
    spanish += " siguientes problemas?"
    assert knowledge.instruments["phq9"].stem == {
        "en": "Over the last 2 weeks, how often have you been bothered by any of the following"
        " problems?",
        "es": spanish,
    }
    assert knowledge.instruments["gad7"].stem == {
        "en": "Over the last 2 weeks, how often have you been bothered by the following problems?",
        "es": spanish,
    }


def test_the_frequency_options_are_verbatim_in_both_languages(knowledge: Knowledge) -> None:
    expected = [
        ("Not at all", "Ningún día"),
        ("Several days", "Varios días"),
        ("More than half the days", "Más de la mitad de los días"),
        ("Nearly every day", "Casi todos los días"),
    ]
    for item_id in ("phq9.1", "gad7.1"):
        options = knowledge.items[item_id].options
        assert [(o.text["en"], o.text["es"]) for o in options] == expected


def test_the_phq9_difficulty_options_are_verbatim_in_spanish(knowledge: Knowledge) -> None:
    options = knowledge.items["phq9.difficulty"].options
    assert [o.text["es"] for o in options] == [
        "No ha sido difícil",
        "Un poco difícil",
        "Muy difícil",
        "Extremadamente difícil",
    ]


def test_the_burnout_item_wording_is_verbatim_in_english(knowledge: Knowledge) -> None:
    item = knowledge.items["burnout.single"]
    assert item.text["en"] == (
        "Overall, based on your definition of burnout, how would you rate your level of burnout?"
    )
    assert item.options[0].text["en"] == "I enjoy my work. I have no symptoms of burnout."
    assert item.options[4].text["en"] == (
        "I feel completely burned out and often wonder if I can go on. I am at the point where I"
        " may need some changes or may need to seek some sort of help."
    )


def test_the_web_asq_is_marked_as_a_mode_adaptation_not_validated_for_us_spanish(
    knowledge: Knowledge,
) -> None:
    asq = knowledge.instruments["asq"]
    assert asq.raw["mode_adapted"] is True
    assert "not validated for web self-report" in asq.raw["mode_note"]
    assert asq.spanish_validated is False


def test_the_burnout_spanish_is_marked_not_validated(knowledge: Knowledge) -> None:
    assert knowledge.instruments["burnout"].spanish_validated is False


def test_the_us_spanish_gad7_is_not_marked_validated(knowledge: Knowledge) -> None:
    """The Spain validation (S24b) is of a different wording, and the translation behind the
    US Hispanic study (S24c) is not verified (SPANISH.md §B): the notice shows."""
    gad7 = knowledge.instruments["gad7"]
    assert gad7.spanish_validated is False
    assert "S24b" not in gad7.raw["spanish"]["citations"]
