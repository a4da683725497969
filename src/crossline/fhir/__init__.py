"""crossline in FHIR R4: pure mappers from the knowledge base, answers and decisions to FHIR
resources (JSON-ready dicts) and back.

Like the engine, nothing here imports Django, reads the clock or the environment: the web layer
(`crossline.api.fhir`, `crossline.clinic.fhir_export`) passes the FHIR base URL and the times
(only a Bundle's entry names are random, `urn:uuid:`). Every resource is checked against
fhir.resources' R4B models (`validate`) in the tests, and by the web layer before it serves one.
"""

from crossline.engine.knowledge import LANGUAGES, Knowledge
from crossline.fhir import bundle, observation, patient, questionnaire, response
from crossline.fhir.validate import InvalidResource, validate

# The mappers, by the resource type each writes (one visible table; no discovery).
MAPPERS = {
    "Questionnaire": questionnaire.assessment,  # knowledge -> the assessment's questions
    "QuestionnaireResponse": response.from_answers,  # contract answers -> a response
    "Observation": observation.scores,  # a decision's complete LOINC-coded totals
    "Patient": patient.from_contact,  # contact details a person gave
    "Bundle": bundle.collection,  # resources downloaded together
}
# ... and the reader of the one resource crossline takes in.
READERS = {"QuestionnaireResponse": response.to_answers}

# The base URL the release check builds under (`crossline knowledge check`): any will do.
CHECK_BASE = "https://crossline.invalid/fhir/r4"


def problems(k: Knowledge) -> list[str]:
    """What stops the knowledge base from making a valid Questionnaire in either language (a
    release check): a text the mapper needs that is missing, or a resource FHIR refuses."""
    found = []
    for language in LANGUAGES:
        try:
            validate(questionnaire.assessment(k, CHECK_BASE, language))
        except (InvalidResource, KeyError, TypeError) as exc:
            found.append(f"FHIR Questionnaire ({language}): {type(exc).__name__}: {exc}")
    return found


__all__ = ["MAPPERS", "READERS", "InvalidResource", "problems", "validate"]
