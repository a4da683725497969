"""crossline in FHIR R4: pure mappers from the knowledge base, answers and decisions to FHIR
resources (JSON-ready dicts) and back.

Like the engine, nothing here imports Django, reads the clock or the environment: the web layer
(`crossline.api.fhir`) passes the FHIR base URL and the times. Every resource is checked against
fhir.resources' R4B models (`validate`) in the tests, and by the web layer once per build.
"""

from crossline.fhir import observation, questionnaire, response
from crossline.fhir.validate import InvalidResource, validate

# The mappers, by the resource type each writes (one visible table; no discovery).
MAPPERS = {
    "Questionnaire": questionnaire.assessment,  # knowledge -> the assessment's questions
    "QuestionnaireResponse": response.from_answers,  # contract answers -> a response
    "Observation": observation.scores,  # a decision's complete LOINC-coded totals
}
# ... and the reader of the one resource crossline takes in.
READERS = {"QuestionnaireResponse": response.to_answers}

__all__ = ["MAPPERS", "READERS", "InvalidResource", "validate"]
