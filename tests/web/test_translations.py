"""The Spanish interface text: complete, placeholder-safe, compiled, covering every marked string.

Runs without GNU gettext (CI machines may not have it): the .po is read by the small parser below,
the .mo by the standard library. Recompile after editing the .po:
`msgfmt --check -o src/crossline/locale/es/LC_MESSAGES/django.mo \
src/crossline/locale/es/LC_MESSAGES/django.po`.
"""

from __future__ import annotations

import ast
import gettext
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.utils.translation import templatize

SRC = Path(__file__).resolve().parents[2] / "src" / "crossline"
MESSAGES = SRC / "locale" / "es" / "LC_MESSAGES"
PYTHON_SOURCES = sorted([*SRC.glob("intake/*.py"), *SRC.glob("api/*.py"), *SRC.glob("course/*.py")])
TEMPLATES = sorted(SRC.glob("**/templates/**/*.html"))

# Django's makemessages keywords (name -> positions of context, singular, plural).
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


Key = tuple[str | None, str, str | None]  # (msgctxt, msgid, msgid_plural), as makemessages writes


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    msgid_plural: str | None
    msgstr: tuple[str, ...]  # one string, or one per plural form
    flags: frozenset[str]

    @property
    def key(self) -> Key:
        return (self.context, self.msgid, self.msgid_plural)


def read_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """The header fields and the entries of a .po file (no obsolete `#~` entries expected)."""
    header: dict[str, str] = {}
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += _po_string(line)
            else:
                key, _, rest = line.partition(" ")
                fields[key] = _po_string(rest)
        if not fields:
            continue
        if fields["msgid"] == "" and "msgctxt" not in fields:
            header = dict(h.split(": ", 1) for h in fields["msgstr"].splitlines() if h)
            continue
        plural = fields.get("msgid_plural")
        strings = [fields[k] for k in sorted(fields) if k.startswith("msgstr[")]
        entries.append(
            Entry(
                context=fields.get("msgctxt"),
                msgid=fields["msgid"],
                msgid_plural=plural,
                msgstr=tuple(strings) if plural is not None else (fields["msgstr"],),
                flags=frozenset(flags),
            )
        )
    return header, entries


def _po_string(token: str) -> str:
    """A quoted .po string; its escapes (\\n, \\", \\\\, \\t) are a subset of Python's."""
    token = token.strip()
    assert token.startswith('"') and token.endswith('"'), token
    return str(ast.literal_eval(token))


def mo_keys(path: Path) -> set[Key]:
    """(context, msgid, plural) of every entry in a .mo file, from its table of original strings."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    count, originals = struct.unpack(order + "4xII", data[4:16])
    keys = set()
    for i in range(count):
        length, offset = struct.unpack_from(order + "II", data, originals + 8 * i)
        original, *plural = data[offset : offset + length].decode("utf-8").split("\x00")
        context, sep, msgid = original.rpartition("\x04")
        keys.add((context if sep else None, msgid, plural[0] if plural else None))
    keys.discard((None, "", None))  # the header
    return keys


def python_msgids(path: Path) -> set[Key]:
    """Literal strings passed to gettext functions, implicit concatenation joined (as xgettext)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in KEYWORDS:
            continue
        ctx_pos, singular_pos, plural_pos = KEYWORDS[name]
        msgid = _literal(node, singular_pos)
        if msgid is not None:
            context = _literal(node, ctx_pos) if ctx_pos is not None else None
            plural = _literal(node, plural_pos) if plural_pos is not None else None
            found.add((context, msgid, plural))
    return found


def _literal(node: ast.Call, pos: int) -> str | None:
    arg = node.args[pos] if pos < len(node.args) else None
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


CALL = re.compile(r"\b(n?p?gettext)\(")
STRING = re.compile(r"""\s*u?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*,?""")


def template_msgids(path: Path) -> set[Key]:
    """Every {% translate %} / {% blocktranslate %} message, extracted by Django's own templatize
    (what makemessages runs), so `trimmed`, {{ variables }} and %% come out as in the .po."""
    code = templatize(path.read_text(encoding="utf-8"))
    found = set()
    for call in CALL.finditer(code):
        literals, pos = [], call.end()
        while match := STRING.match(code, pos):
            literals.append(str(ast.literal_eval(match.group(1))))
            pos = match.end()
        context = literals.pop(0) if call.group(1) in ("pgettext", "npgettext") else None
        found.add((context, literals[0], literals[1] if len(literals) > 1 else None))
    return found


def placeholders(s: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(s))


HEADER, ENTRIES = read_po(MESSAGES / "django.po")
PO_KEYS = {e.key for e in ENTRIES}


def test_the_catalogue_is_spanish_with_two_plural_forms() -> None:
    assert HEADER["Language"] == "es"
    assert HEADER["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert HEADER["Content-Type"] == "text/plain; charset=UTF-8"
    assert len(ENTRIES) == len(PO_KEYS), "a msgid appears twice"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.msgid[:40])
def test_every_message_has_a_reviewed_spanish_translation(entry: Entry) -> None:
    assert "fuzzy" not in entry.flags
    assert len(entry.msgstr) == (2 if entry.msgid_plural is not None else 1)
    assert all(s.strip() for s in entry.msgstr), "empty msgstr"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.msgid[:40])
def test_translations_keep_every_placeholder(entry: Entry) -> None:
    expected = placeholders(entry.msgid_plural or entry.msgid)
    allowed = [expected, placeholders(entry.msgid)]  # an English singular may omit the count
    assert placeholders(entry.msgstr[0]) in allowed, entry.msgstr[0]
    for translation in entry.msgstr[1:]:
        assert placeholders(translation) == expected, translation


def test_compiled_catalogue_holds_exactly_the_po_translations() -> None:
    path = MESSAGES / "django.mo"
    assert mo_keys(path) == PO_KEYS, "django.mo is stale: recompile it with msgfmt"
    with path.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    assert mo.info()["plural-forms"] == HEADER["Plural-Forms"]
    for e in ENTRIES:
        if e.msgid_plural is None:
            got = (mo.pgettext(e.context, e.msgid) if e.context else mo.gettext(e.msgid),)
        else:
            got = tuple(_n(mo, e, n) for n in (1, 2))
        assert got == e.msgstr, e.msgid


def _n(mo: gettext.GNUTranslations, e: Entry, n: int) -> str:
    assert e.msgid_plural is not None
    if e.context:
        return mo.npgettext(e.context, e.msgid, e.msgid_plural, n)
    return mo.ngettext(e.msgid, e.msgid_plural, n)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_template_message_is_in_the_catalogue(path: Path) -> None:
    assert template_msgids(path) <= PO_KEYS, template_msgids(path) - PO_KEYS


@pytest.mark.parametrize("path", PYTHON_SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_python_message_is_in_the_catalogue(path: Path) -> None:
    assert python_msgids(path) <= PO_KEYS, python_msgids(path) - PO_KEYS


def test_extraction_finds_the_messages_it_is_meant_to_check() -> None:
    """Guards the checks above against an extractor that silently finds nothing."""
    screen = template_msgids(SRC / "intake" / "templates" / "intake" / "screen.html")
    question = ("At most %(left)s more question", "At most %(left)s more questions")
    assert (None, *question) in screen  # a blocktranslate with count and {{ left }}
    assert (None, "Next", None) in screen
    contact = python_msgids(SRC / "intake" / "contact.py")
    assert any("%(served)s" in msgid for _, msgid, _ in contact)  # implicitly concatenated
    medicines = (None, "Which medicines and supplements do you take?", None)
    assert medicines in python_msgids(SRC / "api" / "flow.py")  # translation.gettext(...)


@pytest.mark.django_db
def test_home_page_in_spanish_for_a_spanish_browser() -> None:
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE="es")
    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="es">' in text
    assert "Comenzar la prueba" in text
    assert "Start the check" not in text
    assert "crossline es una herramienta de detección, no un diagnóstico." in text


@pytest.mark.django_db
def test_home_page_stays_english_for_an_english_browser() -> None:
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert '<html lang="en">' in text
    assert "Start the check" in text
