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
