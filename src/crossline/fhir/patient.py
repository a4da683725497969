"""The person behind a case as a FHIR Patient: only what they gave when they asked to be
contacted (name, e-mail, phone), the case's id as an identifier, and their language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BCP47 = "urn:ietf:bcp:47"


def from_contact(
    contact: Mapping[str, str], case_system: str, case_id: str, language: str
) -> dict[str, Any]:
    """A Patient from decrypted contact details (`crossline.intake` keeps name, email, phone
    and the state of the visits; the state says where care happens, not where they live, so it
    is not an address). `case_system` names crossline's case identifiers (a URI)."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": case_system, "value": case_id}],
    }
    if contact.get("name"):
        patient["name"] = [{"text": contact["name"]}]
    telecom = [
        {"system": kind, "value": contact[key]}
        for kind, key in (("email", "email"), ("phone", "phone"))
        if contact.get(key)
    ]
    if telecom:
        patient["telecom"] = telecom
    patient["communication"] = [
        {"language": {"coding": [{"system": BCP47, "code": language}]}, "preferred": True}
    ]
    return patient
