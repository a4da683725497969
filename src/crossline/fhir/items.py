"""The pieces every crossline resource is made of: an answer's Coding, a display item."""

from __future__ import annotations

from typing import Any

from crossline.engine.knowledge import Option, Text
from crossline.fhir.codes import LOINC, answers_system
from crossline.fhir.text import localised


def option_coding(option: Option, base: str, language: str) -> dict[str, Any]:
    """The Coding of one answer: its LOINC answer code, or the contract value in crossline's
    answer code system."""
    if option.loinc:
        coding = {"system": LOINC, "code": option.loinc}
    else:
        coding = {"system": answers_system(base), "code": str(option.value)}
    return coding | localised("display", option.text, language)


def display(link_id: str, text: Text, language: str) -> dict[str, Any]:
    """A display item: text shown, never answered."""
    return {"linkId": link_id, "type": "display"} | localised("text", text, language)
