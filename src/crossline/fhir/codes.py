"""The code systems, value sets and extensions crossline's FHIR resources use, in one place.

LOINC codes themselves live in the knowledge files beside each instrument (FACTS §A1–§A4b,
[S17]–[S20c]); this module only names the systems they belong to.
"""

from __future__ import annotations

FHIR_VERSION = "4.0.1"  # R4; resources are validated with fhir.resources' R4B models
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# US Core uses USPS two-letter codes for US states (R4's value set usps-state draws on it).
USPS = "https://www.usps.com/"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Core extensions (R4): an answer's numeric value, an item's range, text in another language.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"

# crossline's own names, under the deployment's FHIR base (`{base}/...`): the assessment
# Questionnaire and the code system of answers that LOINC has no code for (the ASQ's refusal,
# the scope and checklist answers, the single-item burnout measure — FACTS §A4b, §A5). A code
# in it is the contract's own answer value, so it maps back without a table.
QUESTIONNAIRE_ID = "crossline-assessment"
ANSWERS_CODE_SYSTEM = "CodeSystem/crossline-answer"
# … and of the questions no Questionnaire or LOINC code covers (a course's own weekly
# questions): a code in it is the question's answer id (`course.bladder`).
QUESTIONS_CODE_SYSTEM = "CodeSystem/crossline-question"


def questionnaire_url(base: str) -> str:
    return f"{base}/Questionnaire/{QUESTIONNAIRE_ID}"


def answers_system(base: str) -> str:
    return f"{base}/{ANSWERS_CODE_SYSTEM}"


def questions_system(base: str) -> str:
    return f"{base}/{QUESTIONS_CODE_SYSTEM}"


def case_system(base: str) -> str:
    """The identifier system of crossline's case ids (a Patient's identifier in an export)."""
    return f"{base}/NamingSystem/case"
