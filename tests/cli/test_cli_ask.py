"""`crossline ask`: the adaptive assessment in a terminal, typed in through standard input.

Choices are numbered from 1 in the order of the item's options (PHQ items: 1 = Not at all;
ASQ: 1 = Yes, 2 = No; burnout: 1 = no symptoms). The few-symptoms path is PHQ-9 items 1, 2, 9,
the burnout item, the GAD-2, state and age.
"""

from __future__ import annotations

import re

from tests.cli.support import (
    KNOWLEDGE,
    crossline,
    eligibility_title,
    item_text,
    outcome_title,
)

SCREEN = re.compile(r"^(Question|Pregunta) \d+ · ")
NOT_AT_ALL, NO, YES = "1", "2", "1"
# phq9.1, phq9.2, phq9.9 "Not at all"; burnout 1; GAD-2 "Not at all"; state; age.
FEW_SYMPTOMS_TYPED = ["1", "1", "1", "1", "1", "1", "FL", "34"]
ALL_RESOURCES = [r.label["en"] for r in KNOWLEDGE.resources]


def typed(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def screens(stdout: str) -> list[list[str]]:
    """The output cut into question screens: each from its crisis line to its prompt."""
    lines = stdout.splitlines()
    starts = [_crisis_line(lines, i) for i, line in enumerate(lines) if SCREEN.match(line)]
    return [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def _crisis_line(lines: list[str], heading: int) -> int:
    """The crisis line above a screen's heading: just above it, or above the resource list."""
    i = heading - 1
    while lines[i].startswith("   • "):
        i -= 1
    return i


def test_few_symptoms_run_ends_on_a_result_with_the_crisis_line_on_every_screen() -> None:
    result = crossline("ask", "--language", "en", stdin=typed(*FEW_SYMPTOMS_TYPED))

    assert result.returncode == 0, result.stderr
    asked = screens(result.stdout)
    assert len(asked) == len(FEW_SYMPTOMS_TYPED)
    for screen in asked:
        assert screen[0].startswith("[ ") and "988" in screen[0], screen
    assert item_text("profile.age") in asked[-1]
    assert f"Result: {outcome_title('few_signs')}" in result.stdout
    assert "[not_indicated]" in result.stdout
    assert "phq9.1=0, phq9.2=0, phq9.9=0" in result.stdout
    assert "Crisis help — now" not in result.stdout


def test_item_9_shows_full_crisis_resources_at_once_and_acute_acuity_ends_on_safety() -> None:
    # PHQ-2 "Not at all", item 9 "Several days", ASQ 1-4 "No", acuity "Yes".
    stdin = typed(NOT_AT_ALL, NOT_AT_ALL, "2", NO, NO, NO, NO, YES)

    result = crossline("ask", "--language", "en", stdin=stdin)

    assert result.returncode == 0, result.stderr
    asked = screens(result.stdout)
    assert "[ " in asked[2][0]  # item 9 itself is asked under the ordinary crisis line
    for screen in asked[3:]:  # every screen after a positive item 9
        assert screen[0].startswith("!! ") and "988" in screen[0]
        for label in ALL_RESOURCES:
            assert f"   • {label}" in screen
    assert item_text("asq.1") in asked[3]
    assert item_text("asq.5") in asked[-1]
    assert len(asked) == 8, "nothing is asked after acute acuity"
    assert item_text("burnout.single") not in result.stdout
    out = result.stdout
    crisis, next_at = out.index("!! Crisis help — now"), out.index("[safety_first]")
    assert crisis < next_at and "(tel:988)" in out[crisis:next_at]
    assert f"{eligibility_title('safety_first')} [safety_first]" in out
    assert "Result:" not in out, "at acute risk the triage outcome is not the headline"


def test_b_goes_back_one_question() -> None:
    # phq9.1 "Not at all", phq9.2 "Several days", then back from item 9 to change phq9.2.
    stdin = typed("1", "2", "b", "1", "1", "1", "1", "1", "FL", "34")

    result = crossline("ask", "--language", "en", stdin=stdin)

    assert result.returncode == 0, result.stderr
    headings = [s[1].split(" · ")[0] for s in screens(result.stdout)]
    assert headings[:4] == ["Question 1", "Question 2", "Question 3", "Question 2"]
    assert "phq9.1=0, phq9.2=0, phq9.9=0" in result.stdout


def test_q_quits_with_exit_1_and_says_nothing_was_saved() -> None:
    result = crossline("ask", "--language", "en", stdin=typed("1", "q"))

    assert result.returncode == 1
    assert "Nothing was saved." in result.stdout
    assert "Result:" not in result.stdout


def test_answers_outside_the_choices_or_the_contract_are_asked_again() -> None:
    stdin = typed("7", "1", "1", "1", "1", "1", "1", "ZZ", "fl", "abc", "34")

    result = crossline("ask", "--language", "en", stdin=stdin)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Please type one of the numbers shown." in out
    assert "must be the USPS code of a US state" in out
    assert "must be an integer from 0 to 120" in out
    assert f"Result: {outcome_title('few_signs')}" in out


def test_depressed_adult_answers_checklist_medications_history_and_may_be_a_candidate() -> None:
    stdin = typed(
        "3", "4", "1",  # phq9.1 = 2, phq9.2 = 3, phq9.9 = 0
        "3", "3", "2",  # phq9.3 = 2, phq9.4 = 2, phq9.5 = 1: the screen is positive at 10
        "3",  # burnout 3
        NO, NO, NO, NO, NO,  # ASQ 1-4 and acuity (asked on a positive screen)
        "2", "3",  # GAD-2
        "NJ", "41",
        "",  # an empty checklist is not "none of these": asked again
        "0",  # none of these apply
        "Xanax 0.5 mg, sertraline",
        "3",  # two antidepressant trials without enough relief
    )  # fmt: skip

    result = crossline("ask", "--language", "en", stdin=stdin)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    checklist = KNOWLEDGE.docs["contraindications.toml"]["checklist"]
    assert checklist["none_label"]["en"] in out
    assert out.count("Please type one of the numbers shown.") == 1
    assert item_text("asq.5") in out  # acuity is asked with the ASQ (decision 0002)
    assert "[candidate]" in out
    assert "(Xanax 0.5 mg)" in out
    assert "[review.treatment_resistance · review]" in out


def test_language_flag_es_asks_in_spanish() -> None:
    result = crossline("ask", "--language", "es", stdin=typed(*FEW_SYMPTOMS_TYPED))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    asked = screens(out)
    assert len(asked) == len(FEW_SYMPTOMS_TYPED)
    assert all("988" in s[0] and "¿En crisis?" in s[0] for s in asked)
    assert item_text("phq9.1", "es") in out
    assert "Escriba el número de su respuesta" in out
    assert item_text("phq9.1", "en") not in out
    assert f"Resultado: {outcome_title('few_signs', 'es')}" in out


def test_language_prompt_accepts_2_for_spanish() -> None:
    result = crossline("ask", stdin=typed("2", *FEW_SYMPTOMS_TYPED))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Language / Idioma — 1 English, 2 Español: ")
    assert item_text("phq9.1", "es") in result.stdout
    assert f"Resultado: {outcome_title('few_signs', 'es')}" in result.stdout


def test_a_superscript_digit_is_asked_again_not_a_crash() -> None:
    result = crossline("ask", "--language", "en", stdin=typed("²", "q"))

    assert "Traceback" not in result.stderr
    assert "Please type one of the numbers shown." in result.stdout
    assert result.returncode == 1
