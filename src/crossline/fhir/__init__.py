"""crossline in FHIR R4: pure mappers from the knowledge base, answers and decisions to FHIR
resources (JSON-ready dicts) and back.

Like the engine, nothing here imports Django, reads the clock or the environment: the web layer
(`crossline.api.fhir`, `crossline.clinic.fhir_export`) passes the FHIR base URL and the times
(only a Bundle's entry names are random, `urn:uuid:`). Every resource is checked against
fhir.resources' R4B models (`validate`) in the tests, and by the web layer before it serves one.
"""

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

__all__ = ["MAPPERS", "READERS", "InvalidResource", "validate"]
