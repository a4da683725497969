"""What the form property tests share: a valid form damaged in one place — one field changed to
any value, dropped, or a field added — and the statuses that are a page, never a server error."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
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


# --- forms read from their pages -------------------------------------------------------------


@dataclass
class Form:
    """A POST form as a browser would submit it: where to, and every field with the value the
    page shows (checked boxes and radios, selected options, textareas; a radio group nothing
    is checked in, with its first choice)."""

    action: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    # Every value the page offers (radios, checkboxes, options): words to damage fields with.
    choices: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._unchecked: dict[str, str] = {}  # the form's radio groups nothing is checked in

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(a.get("action", ""), a.get("id", ""))
            self._unchecked = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag in ("input", "button") and name and a.get("type") not in ("file", "reset"):
            if a.get("type") in ("checkbox", "radio"):
                value = a.get("value", "on")
                self._form.choices.add(value)
                if "checked" in a:
                    self._add(name, value)
                elif a.get("type") == "radio":  # a group nothing is checked in: its first
                    self._unchecked.setdefault(name, value)
            elif tag == "input" and a.get("type") != "submit":
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select is not None:
            self._form.choices.add(a.get("value", ""))
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            if self._select not in self._form.fields and self._first_option is not None:
                self._form.fields[self._select] = self._first_option
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            # A radio group left unanswered is answered with its first choice: the form
            # then goes further than its first refusal.
            for name, value in self._unchecked.items():
                self._form.fields.setdefault(name, value)
            self._form = None

    def _add(self, name: str, value: str) -> None:
        assert self._form is not None
        fields = self._form.fields
        if name in fields:  # a multiple select or a group of checkboxes
            old = fields[name]
            fields[name] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            fields[name] = value


def forms_on(html: str) -> list[Form]:
    """Every POST form of a page."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_on(client: Any, url: str) -> dict[str, Any]:
    """The fields of the admin page's model form (`<form id="<model>_form">`; not the header's
    sign-out form)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    (form,) = [f for f in forms_on(page.content.decode()) if f.id.endswith("_form")]
    assert len(form.fields) > 1, f"no model form on {url}"  # more than the CSRF token
    return form.fields
