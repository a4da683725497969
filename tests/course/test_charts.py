"""Outcome charts (crossline.course.charts): the SVG is read back as XML and its geometry checked
against the engine's policy values and compute(); the table, the words in both languages and the
patient's simple chart are checked as a reader would see them. No database.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crossline.course.charts import Chart, chart
from crossline.engine.outcomes import INSTRUMENTS, Measure, compute, outcomes_policy
from crossline.knowledge import load

K = load()
POLICY = outcomes_policy(K)
NS = {"s": "http://www.w3.org/2000/svg"}


def series(*points: tuple[str, int] | tuple[str, int, int]) -> list[Measure]:
    """("2027-01-20", phq9) or ("2027-01-20", phq9, gad7): no GAD-7 means not measured."""
    out = []
    for when, phq9, *gad7 in points:
        scores = {"phq9": phq9, **({"gad7": gad7[0]} if gad7 else {})}
        out.append(Measure(date.fromisoformat(when), scores))
    return out


COURSE = series(("2026-12-01", 18, 12), ("2026-12-15", 12), ("2027-01-20", 7, 4))


def draw(measures: list[Measure], instrument: str = "phq9", **kw: Any) -> Chart:
    kw.setdefault("induction_end", None)
    kw.setdefault("language", "en")
    return chart(K, measures, instrument, **kw)


def svg(c: Chart) -> ET.Element:
    return ET.fromstring(str(c.svg))


def box(root: ET.Element) -> tuple[float, float, float, float]:
    """(left, right, top, bottom) of the plot, read from the axis lines."""
    y_axis = root.find("s:line[@class='axis y']", NS)
    x_axis = root.find("s:line[@class='axis x']", NS)
    assert y_axis is not None and x_axis is not None
    return (float(x_axis.get("x1", "")), float(x_axis.get("x2", "")),
            float(y_axis.get("y1", "")), float(y_axis.get("y2", "")))  # fmt: skip


def points(root: ET.Element) -> list[tuple[str, float, float]]:
    """Each point's shape and centre, in drawing order."""
    out = []
    for g in root.iterfind("s:g", NS):
        if "point" in g.get("class", "").split():
            x, y = re.fullmatch(r"translate\((\S+) (\S+)\)", g.get("transform", "")).groups()
            out.append((g.get("class", "").split()[1], float(x), float(y)))
    return out


def y_of(root: ET.Element, value: float, instrument: str = "phq9") -> float:
    _, _, top, bottom = box(root)
    return bottom - value / INSTRUMENTS[instrument] * (bottom - top)


def threshold(root: ET.Element, kind: str) -> ET.Element | None:
    return root.find(f".//s:line[@class='threshold {kind}']", NS)


# --- geometry ------------------------------------------------------------------------------------


def test_one_point_per_measure_in_date_order_whatever_the_input_order() -> None:
    measures = series(("2027-01-20", 7), ("2026-12-01", 18), ("2026-12-15", 12))
    drawn = points(svg(draw(measures)))
    assert len(drawn) == 3
    xs = [x for _, x, _ in drawn]
    assert xs == sorted(xs)
    assert [r.score for r in draw(measures).rows] == [18, 12, 7]


def test_a_higher_score_is_drawn_higher_and_equal_scores_level() -> None:
    measures = series(("2027-01-01", 10), ("2027-01-08", 20), ("2027-01-15", 10), ("2027-01-22", 3))
    ys = [y for _, _, y in points(svg(draw(measures)))]
    assert ys[1] < ys[0] == ys[2] < ys[3]  # SVG y grows downwards: higher score = smaller y
    root = svg(draw(measures))
    assert ys[3] == pytest.approx(y_of(root, 3), abs=0.06)


def test_x_is_proportional_to_the_date() -> None:
    measures = series(("2027-01-01", 10), ("2027-01-08", 9), ("2027-01-29", 8))
    (_, x0, _), (_, x1, _), (_, x2, _) = points(svg(draw(measures)))
    assert (x1 - x0) / (x2 - x0) == pytest.approx(7 / 28, abs=0.001)


@pytest.mark.parametrize("instrument", ["phq9", "gad7"])
def test_the_remission_line_is_dashed_at_that_instruments_own_policy_value(instrument: str) -> None:
    c = draw(series(("2027-01-01", 20, 15), ("2027-01-15", 10, 8)), instrument)
    root = svg(c)
    line = threshold(root, "remission")
    assert line is not None
    expected = getattr(POLICY, f"{instrument}_remission_below")
    assert float(line.get("data-value", "")) == expected
    assert float(line.get("y1", "")) == pytest.approx(y_of(root, expected, instrument), abs=0.06)
    assert line.get("y1") == line.get("y2")
    group = root.find(".//s:line[@class='threshold remission']/..", NS)
    assert group is not None and group.get("stroke-dasharray")


def test_the_response_line_is_the_policy_drop_from_baseline() -> None:
    root = svg(draw(series(("2027-01-01", 18), ("2027-01-15", 12))))
    line = threshold(root, "response")
    assert line is not None
    expected = 18 * (100 - POLICY.phq9_response_drop_percent) / 100
    assert float(line.get("data-value", "")) == expected == 9
    assert float(line.get("y1", "")) == pytest.approx(y_of(root, expected), abs=0.06)


def test_marks_land_on_the_points_that_met_each_definition() -> None:
    # 20 → 12 (40% drop) → 10 (exactly 50%: response) → 4 (response and remission) → 26 (+6)
    measures = series(
        ("2027-01-01", 20), ("2027-01-08", 12), ("2027-01-15", 10), ("2027-01-22", 4),
        ("2027-02-05", 26),
    )  # fmt: skip
    c = draw(measures)
    assert [r.marks for r in c.rows] == [
        ("baseline",),
        (),
        ("response",),
        ("response", "remission"),
        ("worsening",),
    ]
    shapes = [shape for shape, _, _ in points(svg(c))]
    assert shapes == ["baseline", "measure", "response", "remission", "worsening"]


def test_each_mark_has_its_own_shape_not_only_its_own_colour() -> None:
    measures = series(
        ("2027-01-01", 20), ("2027-01-08", 12), ("2027-01-15", 10), ("2027-01-22", 4),
        ("2027-02-05", 26),
    )  # fmt: skip
    root = svg(draw(measures))
    outlines = set()
    for g in root.iterfind("s:g", NS):
        if "point" in g.get("class", ""):
            shape = next(iter(g))
            outline = (shape.tag, shape.get("d"))
            outlines.add(outline)
    assert len(outlines) == 5
    legend = [item.kind for item in draw(measures).legend]
    assert legend[:5] == ["measure", "baseline", "remission", "response", "worsening"]


def test_the_end_of_induction_is_a_vertical_line_at_its_date() -> None:
    c = draw(COURSE, induction_end=date(2027, 2, 19))  # after the last measure: the axis extends
    root = svg(c)
    line = root.find("s:line[@class='induction-end']", NS)
    assert line is not None and line.get("x1") == line.get("x2")
    left, right, _, _ = box(root)
    assert float(line.get("x1", "")) == pytest.approx(right)
    (_, x_last, _) = points(root)[-1]
    assert x_last == pytest.approx(left + (right - left) * 50 / 80, abs=0.06)
    assert "End of induction (2027-02-19)" in [item.label for item in c.legend]


def test_the_svg_names_itself_for_assistive_technology() -> None:
    c = draw(COURSE)
    root = svg(c)
    assert root.get("role") == "img"
    title, desc = root.find("s:title", NS), root.find("s:desc", NS)
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == c.title == "PHQ-9 over time"
    assert desc.text is not None and desc.text.startswith(c.summary)
    assert "Remission: below 5." in desc.text
    assert "style" not in str(c.svg)  # the CSP allows no inline styles


# --- numbers and words ---------------------------------------------------------------------------


def test_the_summary_says_what_happened_in_one_sentence() -> None:
    c = draw(COURSE)
    assert (
        c.summary == "PHQ-9 went from 18 at baseline to 7 on 2027-01-20: a 61.1% drop — response."
    )
    assert c.outcome == compute(K, COURSE, None)["phq9"]


def test_the_table_rows_carry_change_in_points_and_percent() -> None:
    rows = draw(COURSE).rows
    assert [(r.day, r.score, r.change, r.percent, r.notes) for r in rows] == [
        ("2026-12-01", 18, "0", "0.0%", ("Baseline",)),
        ("2026-12-15", 12, "-6", "-33.3%", ()),
        ("2027-01-20", 7, "-11", "-61.1%", ("Response",)),
    ]
    assert rows[2].change_points == -11 and rows[2].change_percent == -61.1


def test_a_rise_is_signed_and_named_for_the_physician() -> None:
    c = draw(series(("2027-01-01", 8), ("2027-02-01", 14)), induction_end=date(2027, 1, 29))
    assert c.rows[-1].change == "+6" and c.rows[-1].percent == "+75.0%"
    assert c.summary.endswith("a 75.0% rise — non-response, worsening.")


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_measures_draw_no_chart_and_say_what_is_needed(count: int) -> None:
    c = draw(COURSE[:count])
    assert c.svg == "" and c.legend == ()
    assert c.needed == "The chart appears after the second questionnaire."
    assert len(c.rows) == count
    expected = ["No PHQ-9 scores yet.", "PHQ-9 was 18 at baseline, on 2026-12-01."][count]
    assert c.summary == expected


def test_from_a_baseline_of_0_the_percent_change_is_a_dash_never_0() -> None:
    c = draw(series(("2027-01-01", 0), ("2027-01-15", 3)))
    assert c.outcome["percent_change"] is None
    assert [r.percent for r in c.rows] == ["—", "—"]
    assert [r.change_percent for r in c.rows] == [None, None]
    assert threshold(svg(c), "response") is None  # no response is defined from 0
    assert "no percent change from a baseline of 0" in c.summary


def test_a_measure_without_a_gad7_is_absent_from_the_gad7_chart_never_0() -> None:
    c = draw(COURSE, "gad7")
    assert [(r.date.isoformat(), r.score) for r in c.rows] == [
        ("2026-12-01", 12),
        ("2027-01-20", 4),
    ]
    assert len(points(svg(c))) == 2
    assert c.summary.startswith("GAD-7 went from 12 at baseline to 4 on 2027-01-20")


def test_the_gad7_remission_line_says_it_is_program_policy_and_the_phq9_line_does_not() -> None:
    labels = {
        i: [item.label for item in draw(COURSE, i).legend if item.kind == "remission_line"]
        for i in INSTRUMENTS
    }
    assert labels == {
        "phq9": ["Remission: below 5"],
        "gad7": ["Remission: below 5 (program policy)"],
    }


def test_the_gad7_response_line_says_it_is_program_policy_and_the_phq9_line_does_not() -> None:
    """FACTS defines response for depression only (a 50% PHQ-9 drop): the GAD-7's is the
    program's (policy.outcomes_gad7_response) and says so."""
    labels = {
        i: [item.label for item in draw(COURSE, i).legend if item.kind == "response_line"]
        for i in INSTRUMENTS
    }
    assert labels["phq9"] and not labels["phq9"][0].endswith("(program policy)")
    assert labels["gad7"] and labels["gad7"][0].endswith("(program policy)")


def test_an_unknown_instrument_or_language_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="instrument"):
        draw(COURSE, "madrs")
    with pytest.raises(ValueError, match="language"):
        draw(COURSE, language="fr")


# --- the patient's chart -------------------------------------------------------------------------


def test_the_patients_chart_has_plain_words_larger_text_and_no_physician_verdicts() -> None:
    worse = series(("2027-01-01", 8), ("2027-02-01", 14))
    staff = draw(worse, induction_end=date(2027, 1, 29))
    patient = draw(worse, induction_end=date(2027, 1, 29), simple=True)
    assert staff.outcome["worsening"] and staff.outcome["non_response"]
    words = " ".join([patient.summary, str(patient.svg), *(i.label for i in patient.legend),
                      *(n for r in patient.rows for n in r.notes)]).lower()  # fmt: skip
    assert "worsening" not in words and "non-response" not in words
    assert (
        patient.summary
        == "Your PHQ-9 score went from 8 at the start to 14 on Feb 1, 2027: 75.0% higher."
    )
    assert patient.rows[-1].percent == "+75.0%"  # still the honest number
    assert patient.rows[-1].marks == ()
    assert int(svg(patient).get("font-size", "")) > int(svg(staff).get("font-size", ""))
    assert svg(patient).find("s:line[@class='induction-end']", NS) is None


def test_the_patients_chart_names_response_and_remission() -> None:
    c = draw(COURSE, "gad7", simple=True)
    assert c.title == "Your GAD-7 scores"
    assert c.summary == (
        "Your GAD-7 score went from 12 at the start to 4 on Jan 20, 2027: 66.7% lower — "
        "a response, and in the remission range."
    )
    assert c.rows[0].notes == ("First score",)


def test_spanish_words_numbers_and_dates() -> None:
    staff = draw(COURSE, language="es")
    assert staff.title == "El PHQ-9 a lo largo del tiempo"
    assert staff.summary == (
        "El PHQ-9 pasó de 18 en el valor inicial a 7 el 2027-01-20: "
        "una bajada del 61,1 % — respuesta."
    )
    assert staff.rows[-1].percent == "-61,1 %"
    patient = draw(COURSE, language="es", simple=True)
    assert patient.rows[-1].day == "20 ene 2027"
    assert patient.summary.startswith(
        "Su puntaje del PHQ-9 pasó de 18 al inicio a 7 el 20 ene 2027"
    )
    assert "Rango de remisión: menos de 5" in [item.label for item in patient.legend]
    assert svg(patient).find("s:title", NS).text == "Sus puntajes del PHQ-9"
    assert draw(COURSE, simple=True).rows[-1].day == "Jan 20, 2027"


# --- any series ----------------------------------------------------------------------------------


@st.composite
def courses(draw_: st.DrawFn) -> tuple[list[Measure], date | None]:
    start = date(2026, 1, 1)
    offsets = draw_(st.lists(st.integers(0, 400), min_size=0, max_size=25, unique=True))
    measures = [
        Measure(start + timedelta(days=d), {
            "phq9": draw_(st.integers(0, 27)),
            **({"gad7": g} if (g := draw_(st.none() | st.integers(0, 21))) is not None else {}),
        })
        for d in offsets
    ]  # fmt: skip
    end = draw_(st.none() | st.integers(0, 500).map(lambda d: start + timedelta(days=d)))
    return measures, end


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    courses(),
    st.sampled_from(sorted(INSTRUMENTS)),
    st.sampled_from(["en", "es"]),
    st.booleans(),
)
def test_any_series_draws_inside_the_plot_with_the_engines_marks(
    course: tuple[list[Measure], date | None], instrument: str, language: str, simple: bool
) -> None:
    measures, end = course
    c = draw(measures, instrument, induction_end=end, language=language, simple=simple)
    measured = sorted((m for m in measures if instrument in m.scores), key=lambda m: m.date)
    assert [r.score for r in c.rows] == [m.scores[instrument] for m in measured]
    for i, row in enumerate(c.rows):  # each point's marks are compute() on the series so far
        o = compute(K, measured[: i + 1], end)[instrument]
        assert ("response" in row.marks) == bool(o["response"])
        assert ("remission" in row.marks) == o["remission"]
        assert ("worsening" in row.marks) == (o["worsening"] and not simple)
    if len(c.rows) < 2:
        assert c.svg == "" and c.needed
        return
    root = svg(c)
    left, right, top, bottom = box(root)
    drawn = points(root)
    assert len(drawn) == len(c.rows)
    for _, x, y in drawn:
        assert left - 0.06 <= x <= right + 0.06 and top - 0.06 <= y <= bottom + 0.06
    for line in root.iterfind(".//s:line", NS):
        if "threshold" in line.get("class", ""):
            assert top <= float(line.get("y1", "")) <= bottom


# --- the template --------------------------------------------------------------------------------


def render(c: Chart) -> str:
    return render_to_string("course/_chart.html", {"chart": c})


def test_the_template_shows_the_chart_its_legend_and_the_table() -> None:
    c = draw(COURSE, induction_end=date(2027, 1, 1))
    html = render(c)
    assert html.count("<svg") == 1 + len(c.legend)  # the chart and one symbol per legend line
    assert 'aria-labelledby="outcome-phq9-title outcome-phq9-desc"' in html
    assert len(re.findall(r"<li\b", html)) == len(c.legend)
    assert "Response: 50% below baseline (9 or less)" in html
    assert '<caption id="outcome-phq9-numbers">PHQ-9 over time: the numbers</caption>' in html
    assert html.count('<th scope="col"') == 5
    assert html.count('<th scope="row"') == 3
    assert '<th scope="row">2027-01-20</th><td class="num">7</td><td class="num">-11</td>' in html
    assert "/static/course/charts.css" in html
    assert "style=" not in html and "<style" not in html and "<script" not in html


def test_the_template_without_enough_measures_says_what_is_needed_and_still_shows_the_table() -> (
    None
):
    html = render(draw(COURSE[:1], simple=True, language="es"))
    assert "<svg" not in html
    assert "La gráfica aparecerá después del segundo cuestionario." in html
    assert '<th scope="col">Fecha</th>' in html
    assert '<th scope="row">1 dic 2026</th>' in html
    assert "Primer puntaje" in html


def test_every_chart_message_has_a_spanish_translation() -> None:
    from tests.web.test_translations import MESSAGES, SRC, python_msgids, read_po

    _, entries = read_po(MESSAGES / "django.po")
    translated = {e.key for e in entries if all(e.msgstr)}
    marked = python_msgids(SRC / "course" / "charts.py")
    assert len(marked) > 40 and marked <= translated
