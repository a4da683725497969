"""Text in the resource's language, with the other languages as FHIR translations."""

from __future__ import annotations

from typing import Any

from crossline.engine.knowledge import LANGUAGES, Text
from crossline.fhir.codes import TRANSLATION


def localised(name: str, text: Text, language: str) -> dict[str, Any]:
    """`{name: text in language}` plus `_name` carrying the other languages' texts as core
    translation extensions — one resource serves both languages, and every text stays the
    knowledge file's own (validated instruments verbatim)."""
    out: dict[str, Any] = {name: text[language]}
    others = [lang for lang in LANGUAGES if lang != language and text.get(lang)]
    if others:
        out[f"_{name}"] = {"extension": [_translation(lang, text[lang]) for lang in others]}
    return out


def _translation(language: str, content: str) -> dict[str, Any]:
    return {
        "url": TRANSLATION,
        "extension": [
            {"url": "lang", "valueCode": language},
            {"url": "content", "valueString": content},
        ],
    }
