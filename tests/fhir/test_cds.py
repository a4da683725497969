"""CDS Hooks cards (crossline.fhir.cds): what an EHR's prescriber sees when ketamine or
esketamine is ordered. The checks are the screen's own knowledge; no database here."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from typing import Any

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from crossline.engine import InvalidInput, Knowledge
from crossline.fhir import cds
from crossline.knowledge import load

SITE = "https://crossline.example"
SIGN = "crossline-ketamine-order-sign"
KETAMINE = "ketamine hydrochloride 100 MG/ML Injectable Solution"


@pytest.fixture(scope="module")
def k() -> Knowledge:
    return load()


def medicine(text: str | None = None, kind: str = "MedicationRequest", **fields: Any) -> dict:
    resource: dict[str, Any] = {"resourceType": kind, "status": "active", **fields}
    if text is not None:
        resource["medicationCodeableConcept"] = {"text": text}
    return resource


def bundle(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def call(
    k: Knowledge,
    *current: dict,
    order: tuple[dict, ...] = (medicine(KETAMINE, status="draft"),),
    hook: str = "order-sign",
    service: str = SIGN,
    **prefetch: Any,
) -> list[dict]:
    request = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": bundle(*order)},
        "prefetch": {"medications": bundle(*current), **prefetch},
    }
    return cds.evaluate(k, service, request, SITE)["cards"]


def summaries(cards: list[dict]) -> list[tuple[str, str]]:
    return [(c["indicator"], c["summary"]) for c in cards]


def test_discovery_names_both_order_hooks_and_asks_for_the_active_medicines(k: Knowledge) -> None:
    services = cds.discovery(k)["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("crossline-ketamine-order-select", "order-select"),
        ("crossline-ketamine-order-sign", "order-sign"),
    }
    for s in services:
        assert s["description"] and s["title"]
        assert s["prefetch"]["medications"] == (
            "MedicationRequest?patient={{context.patientId}}&status=active"
        )


def test_an_order_without_ketamine_gets_no_cards(k: Knowledge) -> None:
    assert call(k, medicine("phenelzine 15 mg"), order=(medicine("sertraline 50 mg"),)) == []


def test_cards_come_most_urgent_first_with_the_screens_own_words(k: Knowledge) -> None:
    cards = call(
        k,
        medicine("Alprazolam 0.5 MG Oral Tablet"),
        medicine("phenelzine 15 mg"),
        medicine("Lamisil 250 mg"),  # never matched to Lamictal: unrecognised
        medicine("sertraline 50 mg"),  # recognised, nothing of note: no card
    )
    assert summaries(cards) == [
        ("critical", "Avoid with ketamine: MAO inhibitor (MAOI) (phenelzine 15 mg)"),
        ("warning", "Review with ketamine: Benzodiazepine (Alprazolam 0.5 MG Oral Tablet)"),
        ("warning", k.copy["cds"]["unrecognised"]["en"]),
        ("info", k.copy["cds"]["conditions"]["en"]),
    ]
    maoi = k.medication_classes["maoi"]
    assert maoi.flag["en"].split(":")[0] in cards[0]["detail"]
    for cid in maoi.citations:
        assert f"[{cid}]" in cards[0]["detail"]
    assert cards[0]["links"] == [
        {
            "label": k.copy["cds"]["learn"]["en"],
            "url": f"{SITE}/learn/#medicines-maoi",
            "type": "absolute",
        }
    ]
    assert "- Lamisil 250 mg" in cards[2]["detail"]
    assert "[policy.unrecognised_medication]" in cards[2]["detail"]


@pytest.mark.parametrize("cid", sorted(load().medication_classes))
def test_every_class_that_matters_gets_its_card(k: Knowledge, cid: str) -> None:
    c = k.medication_classes[cid]
    cards = call(k, medicine(f"{c.names[0]} 10 mg"))
    expected = {"exclude": "critical", "review": "warning"}.get(c.effect)
    if expected is None:  # nothing of note: only the checklist card
        assert summaries(cards) == [("info", k.copy["cds"]["conditions"]["en"])]
        return
    assert cards[0]["indicator"] == expected
    assert c.label["en"].split("(")[0].strip() in cards[0]["summary"]
    for cid_ in c.citations:
        assert f"[{cid_}]" in cards[0]["detail"]


def test_every_card_keeps_to_the_cds_hooks_shape(k: Knowledge) -> None:
    everything = [medicine(f"{c.names[0]} 10 mg") for c in k.medication_classes.values()]
    everything += [medicine(f"unknown medicine number {i}") for i in range(30)]
    cards = call(k, *everything)
    assert [c["indicator"] for c in cards] == sorted(
        (c["indicator"] for c in cards), key=["critical", "warning", "info"].index
    )
    for card in cards:
        assert 0 < len(card["summary"]) < cds.SUMMARY_LIMIT
        assert card["source"]["label"].endswith(f"(knowledge {k.version})")
        assert card["source"]["url"] == f"{SITE}/learn/"
        assert all(
            link["type"] == "absolute" and link["url"].startswith(SITE) for link in card["links"]
        )


def test_a_long_list_of_names_moves_to_the_detail(k: Knowledge) -> None:
    names = [f"{n} 1 mg" for n in k.medication_classes["benzodiazepine"].names[:8]]
    cards = call(k, *(medicine(n) for n in names))
    assert cards[0]["summary"] == "Review with ketamine: Benzodiazepine"
    for n in names:
        assert n in shown(gfm(cards[0]["detail"]))


def test_the_checklist_card_lists_every_condition_with_its_sources(k: Knowledge) -> None:
    (card,) = call(k)
    assert card["indicator"] == "info"
    for cond in k.conditions.values():
        assert cond.label["en"].split("(")[0].strip() in card["detail"]
    exclusions, reviews = card["detail"].split(k.copy["cds"]["reviews"]["en"])
    assert k.conditions["aneurysm_avm"].label["en"] in exclusions
    assert "Cardiovascular disease" in reviews
    assert card["links"][0]["url"] == f"{SITE}/learn/#who-should-not"


def test_esketamine_by_its_coded_display_and_rxnorm_style_names_are_read(k: Knowledge) -> None:
    spravato = medicine(status="draft")
    spravato["medicationCodeableConcept"] = {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "x",
                "display": "Spravato 28 MG Nasal Spray",
            }
        ]
    }
    stimulant = medicine("24 HR methylphenidate hydrochloride 36 MG Extended Release Oral Tablet")
    cards = call(k, stimulant, order=(spravato,))
    assert cards[0]["indicator"] == "warning" and "Psychostimulant" in cards[0]["summary"]


def test_medicines_not_being_taken_are_left_out_and_statements_count(k: Knowledge) -> None:
    stopped = medicine("phenelzine 15 mg", status="stopped")
    taken = medicine("oxycodone 5 mg", kind="MedicationStatement")
    cards = call(k, stopped, statements=bundle(taken))
    assert [c["indicator"] for c in cards] == ["warning", "info"]
    assert "Opioid" in cards[0]["summary"]


def test_referenced_medications_are_resolved_and_unnamed_ones_still_counted(k: Knowledge) -> None:
    contained = medicine(
        medicationReference={"reference": "#m1"},
        contained=[{"resourceType": "Medication", "id": "m1", "code": {"text": "tranylcypromine"}}],
    )
    included = medicine(medicationReference={"reference": "Medication/42"})
    med42 = {"resourceType": "Medication", "id": "42", "code": {"text": "Xanax 1 mg"}}
    nameless = medicine(medicationReference={"reference": "Medication/unknown"})
    cards = call(k, contained, included, med42, nameless)
    assert [c["indicator"] for c in cards] == ["critical", "warning", "warning", "info"]
    assert "Medication/unknown" in shown(gfm(cards[2]["detail"]))


def test_other_medicines_in_the_same_order_are_checked_too(k: Knowledge) -> None:
    order = (medicine(KETAMINE, status="draft"), medicine("lorazepam 1 mg", status="draft"))
    cards = call(k, order=order)
    assert "Benzodiazepine" in cards[0]["summary"]


def test_no_medicines_on_record_still_gets_the_checklist(k: Knowledge) -> None:
    request = {
        "hook": "order-select",
        "hookInstance": "i",
        "context": {"patientId": "p1", "draftOrders": bundle(medicine("Ketalar", status="draft"))},
        "prefetch": {"medications": None},
    }
    cards = cds.evaluate(k, "crossline-ketamine-order-select", request, SITE)["cards"]
    assert summaries(cards) == [("info", k.copy["cds"]["conditions"]["en"])]


def test_without_the_prefetched_medicines_the_check_cannot_run(k: Knowledge) -> None:
    request = {
        "hook": "order-sign",
        "hookInstance": "i",
        "context": {"patientId": "p1", "draftOrders": bundle(medicine(KETAMINE))},
    }
    with pytest.raises(cds.PrefetchMissing, match=r"prefetch\.medications"):
        cds.evaluate(k, SIGN, request, SITE)


FAILED_FETCH = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "timeout", "diagnostics": "medications: timed out"}],
}


@pytest.mark.parametrize(
    "medications",
    [FAILED_FETCH, bundle(FAILED_FETCH), bundle(medicine("sertraline 50 mg"), FAILED_FETCH)],
    ids=["in place of the bundle", "as the bundle's entry", "beside partial results"],
)
def test_a_failed_prefetch_is_not_read_as_no_medicines(k: Knowledge, medications: dict) -> None:
    """CDS Hooks has the EHR send an OperationOutcome when it could not fetch the data: the
    check cannot run (412), rather than answer as quietly as for a clean record — an MAOI the
    EHR failed to send would otherwise go without its critical card."""
    with pytest.raises(cds.PrefetchMissing, match=r"prefetch\.medications"):
        call(k, order=(medicine(KETAMINE, status="draft"),), medications=medications)


def test_an_informational_outcome_beside_the_results_is_no_failure(k: Knowledge) -> None:
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}
    cards = call(k, medicine("phenelzine 15 mg"), note)
    assert summaries(cards)[0][0] == "critical"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.update(hook="order-select"), "hook"),
        (lambda r: r.pop("hookInstance"), "hookInstance"),
        (lambda r: r["context"].pop("patientId"), "context.patientId"),
        (lambda r: r["context"].pop("draftOrders"), "context.draftOrders"),
        (
            lambda r: r["context"]["draftOrders"].update(entry=[{"resource": 3}]),
            "context.draftOrders.entry[0].resource",
        ),
        (
            lambda r: r["prefetch"].update(
                medications=bundle({"resourceType": "MedicationRequest"})
            ),
            "prefetch.medications[0].medicationCodeableConcept",
        ),
        (lambda r: r["prefetch"].update(medications=[1]), "prefetch.medications"),
        (
            lambda r: r["prefetch"].update(
                medications=bundle({"resourceType": "MedicationRequest", "status": []})
            ),
            "prefetch.medications[0].status",
        ),
        # Arrays that are not arrays: refused by name, never a crash (500) or read letter by
        # letter.
        (
            lambda r: r["prefetch"].update(
                medications=bundle(
                    medicine(medicationCodeableConcept={"text": "phenelzine", "coding": 5})
                )
            ),
            "prefetch.medications[0].medicationCodeableConcept.coding",
        ),
        (
            lambda r: r["prefetch"].update(
                medications=bundle(
                    medicine(medicationReference={"reference": "#m"}, contained=5),
                )
            ),
            "prefetch.medications[0].contained",
        ),
        (
            lambda r: r["prefetch"].update(
                medications=bundle(
                    medicine(
                        medicationReference={"reference": "#m"},
                        contained=[
                            {"resourceType": "Medication", "id": "m", "code": {"coding": 7}}
                        ],
                    ),
                )
            ),
            "prefetch.medications[0].medicationReference.code.coding",
        ),
    ],
)
def test_malformed_requests_name_the_field(k: Knowledge, change: Any, field: str) -> None:
    request = {
        "hook": "order-sign",
        "hookInstance": "i",
        "context": {"patientId": "p1", "draftOrders": bundle(medicine(KETAMINE))},
        "prefetch": {"medications": bundle()},
    }
    change(request)
    with pytest.raises(InvalidInput) as caught:
        cds.evaluate(k, SIGN, request, SITE)
    assert field in [e.field for e in caught.value.errors]


def gfm(markdown: str) -> str:
    """HTML as GitHub renders Markdown (cmark-gfm, with its autolink, table, strikethrough,
    tag filter and task list extensions): the "GitHub Flavored Markdown" a card's detail is."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown)


def shown(html: str) -> str:
    """What a reader sees of some HTML: its text, tags dropped, entities read and invisible
    word joiners (U+2060) left out."""
    return " ".join(unescape(re.sub(r"<[^>]*>", " ", html)).replace("\u2060", "").split())


HOSTILE = [
    "[click](https://evil.example) <img src=x> **bold**",
    "https://evil.example/refill",
    "see www.evil.example now",
    "mailto:someone@evil.example",
    "call someone@evil.example",
    "# big\n\n> quoted\n\n    code",
    "1. first | table | ~~gone~~",
    "- [ ] task &amp; &#x3C;b&#x3E; `code`",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_names_from_the_record_cannot_become_markdown(k: Knowledge, name: str) -> None:
    """Rendered as GitHub would, a card shows a name from the record as plain text: no link
    (not even an address GFM would link by itself), image, HTML or block of its own."""
    unrecognised = k.copy["cds"]["unrecognised"]["en"]
    (card,) = [c for c in call(k, medicine(name)) if c["summary"] == unrecognised]
    html = gfm(card["detail"])
    item = re.search(r"<li>(.*?)</li>", html, re.S)
    assert item is not None and shown(item.group(1)) == " ".join(name.split())
    assert not re.search(r"<(a|img|script|h\d|blockquote|pre|code|table|del|ol|input)\b", html)


ANY_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
# Mostly the characters addresses and markup are made of, so that many examples are nearly
# addresses (www.x.y, http://…, someone@x.y) or nearly markup.
ADDRESSY = st.text(st.sampled_from("aw.@:/-_+ h1tpsmilox<>[]()!*#|~`&;\n\\"))


@settings(max_examples=600, deadline=None)
@given(ADDRESSY | ANY_TEXT)
def test_any_name_from_the_record_shows_as_written(name: str) -> None:
    html = gfm(f"- {cds._record_md(name)}")
    item = re.fullmatch(r"<ul>\s*<li>(.*?)</li>\s*</ul>\s*", html, re.S)
    assert item is not None, html
    assert "<" not in item.group(1), html  # no element of its own inside the item
    assert shown(item.group(1)) == " ".join(name.replace("\u2060", "").split())


def test_no_card_suggests_a_dose_or_an_action(k: Knowledge) -> None:
    everything = [medicine(f"{c.names[0]}") for c in k.medication_classes.values()]
    for card in call(k, *everything):
        assert "suggestions" not in card and "systemActions" not in card
    for key, text in k.copy["cds"].items():
        if isinstance(text, dict):
            assert not any(ch.isdigit() for ch in text["en"]), key  # no amounts in our words


# --- anything an EHR might send ----------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Resource-shaped values, so the reader gets past the envelope and into the medicines.
CONCEPT = st.fixed_dictionaries(
    {},
    optional={
        "text": JSON | st.text(max_size=30),
        "coding": st.lists(
            st.dictionaries(st.sampled_from(["display", "code"]), JSON | st.text(max_size=30)),
            max_size=3,
        )
        | JSON,
    },
)
RESOURCE = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(
            ["MedicationRequest", "MedicationStatement", "Medication", "Patient"]
        )
        | JSON
    },
    optional={
        "status": st.sampled_from(["active", "stopped", "draft"]) | JSON,
        "medicationCodeableConcept": CONCEPT | JSON,
        "medicationReference": st.fixed_dictionaries(
            {},
            optional={"reference": st.sampled_from(["#m", "Medication/1"]) | JSON, "display": JSON},
        )
        | JSON,
        "contained": st.lists(
            st.fixed_dictionaries(
                {"resourceType": st.just("Medication"), "id": st.just("m"), "code": CONCEPT | JSON}
            )
        )
        | JSON,
        "id": JSON,
        "code": CONCEPT | JSON,
    },
)
BUNDLE = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={
        "entry": st.lists(
            st.fixed_dictionaries({}, optional={"resource": RESOURCE | JSON}), max_size=4
        )
        | JSON
    },
)


NAMES = st.sampled_from(["ketamine 50 mg", "Spravato", "phenelzine", "Xanax 1 mg", "24 HR x"])
ORDERED = st.fixed_dictionaries(
    {
        "resourceType": st.just("MedicationRequest"),
        "medicationCodeableConcept": st.fixed_dictionaries({"text": NAMES}),
    }
)


def entries(resource: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "resourceType": st.just("Bundle"),
            "entry": st.lists(st.fixed_dictionaries({"resource": resource}), max_size=4),
        }
    )


@settings(max_examples=400, deadline=None)
@given(
    hook=st.sampled_from(["order-sign", "order-sign", "order-sign", "patient-view"]),
    draft=st.one_of(entries(ORDERED), entries(ORDERED | RESOURCE), BUNDLE, RESOURCE, JSON),
    prefetch=st.one_of(
        st.fixed_dictionaries(
            {"medications": entries(RESOURCE)}, optional={"statements": entries(RESOURCE)}
        ),
        st.fixed_dictionaries({"medications": entries(ORDERED | RESOURCE)}),
        st.fixed_dictionaries(
            {}, optional={"medications": BUNDLE | JSON, "statements": BUNDLE | JSON}
        ),
        JSON,
    ),
)
def test_any_request_gets_cards_or_a_refusal_naming_a_field(
    hook: Any, draft: Any, prefetch: Any
) -> None:
    """Never a crash: cards in the CDS Hooks shape, or `InvalidInput` / `PrefetchMissing`."""
    k = load()
    context = {"patientId": "p1", "draftOrders": draft}
    request = {"hook": hook, "hookInstance": "i", "context": context, "prefetch": prefetch}
    try:
        cards = cds.evaluate(k, SIGN, request, SITE)["cards"]
    except InvalidInput as exc:
        assert exc.errors and all(e.field for e in exc.errors)
        event(f"refused: {exc.errors[0].field.split('[')[0]}")
        return
    except cds.PrefetchMissing:
        event("prefetch missing")
        return
    event(f"{len(cards)} cards")
    for card in cards:
        assert card["indicator"] in ("critical", "warning", "info")
        assert 0 < len(card["summary"]) < cds.SUMMARY_LIMIT


def test_a_medicine_coded_without_a_name_is_one_to_review_not_a_refusal(k: Knowledge) -> None:
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    coded = medicine(status="active")
    coded["medicationCodeableConcept"] = {"coding": [{"system": rxnorm, "code": "617314"}]}
    cards = call(k, coded)
    assert summaries(cards)[0] == ("warning", k.copy["cds"]["unrecognised"]["en"])
    assert f"code 617314 of {rxnorm}" in shown(gfm(cards[0]["detail"]))
    assert "<a" not in gfm(cards[0]["detail"])  # the record's address is not made a link


# --- feedback on the cards --------------------------------------------------------------------

ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "card": st.uuids().map(str) | JSON,
        "outcome": st.sampled_from(["overridden", "accepted", ""]) | JSON,
        "outcomeTimestamp": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
        | st.sampled_from(["2026-11-29T08:00:00Z", "9999-12-31T23:59:59-12:00", "2026-11-29"])
        | JSON,
        "overrideReason": st.fixed_dictionaries(
            {},
            optional={
                "reason": st.fixed_dictionaries(
                    {}, optional={"system": st.text(max_size=300) | JSON, "code": JSON}
                )
                | JSON,
                "userComment": st.text(max_size=20) | JSON,
            },
        )
        | JSON,
    },
)


VALID_ENTRY = st.fixed_dictionaries(
    {
        "card": st.uuids().map(str),
        "outcome": st.just("overridden"),
        "outcomeTimestamp": st.datetimes(
            datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.timezones()
        ).map(lambda d: d.isoformat()),
    },
    optional={
        "overrideReason": st.fixed_dictionaries(
            {},
            optional={
                "reason": st.fixed_dictionaries(
                    {
                        "system": st.text(min_size=1, max_size=255),
                        "code": st.text(min_size=1, max_size=64),
                    }
                ),
                "userComment": st.text(max_size=20),
            },
        )
    },
)


@settings(max_examples=600, deadline=None)
@given(
    st.fixed_dictionaries({"feedback": st.lists(VALID_ENTRY | ENTRY | JSON, max_size=4) | JSON})
    | st.fixed_dictionaries({"feedback": st.lists(VALID_ENTRY, min_size=1, max_size=4)})
    | JSON
)
def test_any_feedback_body_is_read_or_refused_naming_the_field(body: Any) -> None:
    try:
        entries = cds.read_feedback(body)
    except InvalidInput as exc:
        assert exc.errors
        assert all(e.field == "$" or e.field.startswith("feedback") for e in exc.errors)
        event("refused")
        return
    event("read")
    assert 0 < len(entries) == len(body["feedback"])
    for e in entries:
        assert e.outcome == "overridden" and e.at.utcoffset() is not None
        assert len(e.reason_code) <= cds.MAX_CODE and len(e.reason_system) <= cds.MAX_SYSTEM


def test_a_medicine_whose_names_disagree_gets_the_card_of_every_class_they_name(
    k: Knowledge,
) -> None:
    # The record's text says an antidepressant with no interaction of note while its coding
    # names an MAOI: the MAOI's critical card still comes, naming the coded name.
    mixed = medicine("Zoloft")
    mixed["medicationCodeableConcept"]["coding"] = [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "x",
            "display": "phenelzine",
        }
    ]
    cards = call(k, mixed)
    assert cards[0]["indicator"] == "critical"
    assert "phenelzine" in cards[0]["detail"] and "Zoloft" not in cards[0]["detail"]
    assert "unrecognised" not in " ".join(c["summary"].lower() for c in cards)
