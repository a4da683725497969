"""Template source checks that rendering alone would not catch."""

from __future__ import annotations

from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "crossline"
TEMPLATES = sorted(SRC.glob("**/templates/**/*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_comment_spans_lines(path: Path) -> None:
    """Django's `{# … #}` comment ends with its line: one left open is shown to the person as
    text. A longer comment is `{% comment %} … {% endcomment %}`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened = line.count("{#")
        assert opened == line.count("#}"), f"{path.name}:{number}: {{# without #}} on its line"


def test_spanish_wording_whose_validation_is_not_confirmed_says_so() -> None:
    """The Spanish GAD-2, ASQ and burnout questions carry the notice; the PHQ-9 does not."""
    from crossline.intake.screens import _question
    from crossline.knowledge import load

    k = load()
    notice = {
        i: _question(k, i, {}, "es")["unvalidated_translation"]
        for i in ("phq9.1", "gad7.1", "asq.1", "burnout.single")
    }
    assert notice == {"phq9.1": False, "gad7.1": True, "asq.1": True, "burnout.single": True}
    assert not _question(k, "gad7.1", {}, "en")["unvalidated_translation"]
