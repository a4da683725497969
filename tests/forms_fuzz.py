"""What the form property tests share: a valid form damaged in one place — one field changed to
any value, dropped, or a field added — and the statuses that are a page, never a server error."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The form again naming the field, the next step, a refusal, "not saved" / "already decided".
PAGES = frozenset({200, 302, 400, 409, 422})
# Values that have broken forms elsewhere: days with no day after or before them, signs,
# exponents, the words of choice fields.
EDGE = ["9999-12-31", "0001-01-01", "", "0", "-1", "99999", "1e9", "yes", "no", "unsure", "NaN"]


def values(*extra: str) -> st.SearchStrategy[Any]:
    """Any posted value: text, the edge values (and a form's own `extra` words), integers of
    any size, a repeated field."""
    return st.one_of(
        st.text(max_size=12),
        st.sampled_from([*EDGE, *extra]),
        st.integers(-(10**12), 10**12).map(str),
        st.lists(st.text(max_size=6), max_size=3),
    )


VALUES = values()


def damaged(
    draw: Any, valid: dict[str, Any], anything: st.SearchStrategy[Any] = VALUES
) -> dict[str, Any]:
    """`valid` with one field changed to a drawn value, dropped, or a new field added."""
    sent = dict(valid)
    field = draw(st.sampled_from(sorted(sent)))
    how = draw(st.sampled_from(["change", "drop", "add"]))
    if how == "drop":
        del sent[field]
    elif how == "add":
        sent[draw(st.text(min_size=1, max_size=10))] = draw(anything)
    else:
        sent[field] = draw(anything)
    return sent


def fuzz(max_examples: int) -> settings:
    """Settings for a test that builds its own records per example (function fixtures are
    shared by the examples on purpose: each example makes what it needs)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
