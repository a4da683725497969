"""The visit's Spanish text is in the catalogue (the shared catalogue test reads intake/ and
api/ Python files; this covers crossline.visits' Python and templates the same way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.test_translations import PO_KEYS, SRC, python_msgids, template_msgids

VISITS = SRC / "visits"
SOURCES = sorted([*VISITS.glob("*.py"), *VISITS.glob("templates/**/*.html")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_visit_message_is_in_the_catalogue(path: Path) -> None:
    found = python_msgids(path) if path.suffix == ".py" else template_msgids(path)
    assert found <= PO_KEYS, found - PO_KEYS


def test_the_visit_messages_are_found() -> None:
    assert (None, "Confirm this time", None) in template_msgids(
        VISITS / "templates" / "visits" / "patient_visit.html"
    )
    assert (None, "crossline telehealth visit", None) in python_msgids(VISITS / "mail.py")
