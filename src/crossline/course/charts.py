"""Outcome charts for a treatment course: the PHQ-9 or the GAD-7 over time as an accessible SVG,
with the same numbers as a table (PRODUCT.md "Outcomes"; FACTS §D2–D3).

Every mark comes from `crossline.engine.outcomes`: a point's marks are `compute()` on the series
up to that point, and the dashed lines sit at the policy.toml [outcomes] values, so the chart can
never disagree with the outcome the physician reads. Each instrument keeps its own thresholds
(FACTS §D2). The markup is built here with every text escaped; its look comes from presentation
attributes and classes only, because pages run under a CSP without inline styles. Pure: no
database, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crossline.engine.knowledge import Knowledge
from crossline.engine.outcomes import INSTRUMENTS, Measure, compute, outcomes_policy

NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}
MARKS = ("baseline", "response", "remission", "worsening")  # a row's marks, in this order
SHAPES = ("baseline", "remission", "response", "worsening")  # the first a point has draws it
PATIENT_DATES = {"en": "M j, Y", "es": "j b Y"}  # "Jan 20, 2027", "20 ene 2027"
INK, AXIS, DASH = "#1a1a1a", "#555555", "6 4"
COLOURS = {"measure": "#0b5394", "baseline": INK, "response": "#0b5394", "remission": "#1e6b2f",
           "worsening": "#a4000f"}  # fmt: skip
LINE_COLOURS = {"remission": "#1e6b2f", "response": "#7a4a00"}
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True, slots=True)
class Row:
    date: date
    day: str  # the date as this chart shows it
    score: int
    change_points: int  # score − baseline
    change_percent: float | None  # as compute(): null from a baseline of 0
    change: str  # "+3", "-11", "0"
    percent: str  # "-61.1%"; "—" when null, never 0
    marks: tuple[str, ...]  # of MARKS; worsening only on the physician's chart
    notes: tuple[str, ...]  # the marks in words


@dataclass(frozen=True, slots=True)
class LegendItem:
    kind: str  # a point's shape; "remission_line", "response_line" (dashed); "end" (of induction)
    symbol: SafeString  # a small aria-hidden SVG
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    instrument: str
    language: str
    simple: bool
    title: str
    summary: str
    needed: str  # what must happen before the chart can be drawn; "" once it is
    svg: SafeString  # empty with fewer than two measures
    legend: tuple[LegendItem, ...]
    rows: tuple[Row, ...]
    outcome: dict[str, Any]  # compute()'s result for this instrument

    @property
    def dom_id(self) -> str:
        return f"outcome-{self.instrument}"


@dataclass(frozen=True, slots=True)
class _Spec:
    instrument: str
    language: str
    simple: bool
    end: date | None
    remission_below: int
    response_percent: int
    worsening_points: int
    # Whether the remission / response threshold is program policy, not a published cut-off.
    remission_policy: bool
    response_policy: bool
    words: dict[str, str]  # _words(simple) in the chart's language


class _Level(NamedTuple):  # a dashed line
    kind: str
    value: float
    short: str  # on the line
    long: str  # in the legend


def chart(
    k: Knowledge,
    measures: list[Measure],
    instrument: str,
    *,
    induction_end: date | None,
    language: str,
    simple: bool = False,
) -> Chart:
    """One instrument's chart; `simple` is the patient's version (plain words, larger text, no
    non-response or worsening wording — those are for the physician)."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"instrument: must be one of {', '.join(INSTRUMENTS)}, not {instrument!r}")
    if language not in PATIENT_DATES:
        raise ValueError(f"language: must be one of {', '.join(PATIENT_DATES)}, not {language!r}")
    series = sorted((m for m in measures if instrument in m.scores), key=lambda m: m.date)
    outcome = compute(k, measures, induction_end)[instrument]
    with translation.override(language):
        spec = _spec(k, instrument, language, simple, induction_end)
        rows = tuple(_row(k, series[: i + 1], spec) for i in range(len(series)))
        title = spec.words["title"] % {"name": NAMES[instrument]}
        summary = _summary(spec, rows, outcome)
        drawn = len(rows) >= 2
        levels = _levels(spec, rows[0].score) if drawn else []
        legend = _legend(spec, rows, levels) if drawn else ()
        scale = _("Scores run from 0 to %(max)s; higher means more symptoms.")
        lines = [i.label for i in legend if i.kind in ("remission_line", "response_line", "end")]
        desc = " ".join(
            [summary, scale % {"max": INSTRUMENTS[instrument]}, *(f"{x}." for x in lines)]
        )
        return Chart(
            instrument=instrument,
            language=language,
            simple=simple,
            title=title,
            summary=summary,
            needed="" if drawn else _("The chart appears after the second questionnaire."),
            svg=_svg(spec, rows, levels, title, desc) if drawn else SafeString(""),
            legend=legend,
            rows=rows,
            outcome=outcome,
        )


def _spec(k: Knowledge, instrument: str, language: str, simple: bool, end: date | None) -> _Spec:
    p = outcomes_policy(k)
    citations = k.docs["policy.toml"]["outcomes"]["citations"]
    return _Spec(
        instrument,
        language,
        simple,
        end,
        remission_below=getattr(p, f"{instrument}_remission_below"),
        response_percent=getattr(p, f"{instrument}_response_drop_percent"),
        worsening_points=getattr(p, f"{instrument}_worsening_points"),
        remission_policy=_is_policy(citations[f"{instrument}_remission_below"]),
        response_policy=_is_policy(citations[f"{instrument}_response_drop_percent"]),
        words=_words(simple),
    )


def _is_policy(citations: list[str]) -> bool:
    return any(c.startswith("policy.") for c in citations)


# --- the numbers and the words ------------------------------------------------------------------


def _words(simple: bool) -> dict[str, str]:
    """The two registers side by side: the patient's plain words and the physician's terms."""
    if simple:
        return {
            "title": _("Your %(name)s scores"),
            "baseline": _("First score"),
            "measure": _("Your score"),
            "one": _("Your first %(name)s score was %(score)s, on %(date)s."),
            "clause": _(
                "Your %(name)s score went from %(baseline)s at the start to %(latest)s on %(date)s"
            ),
            "undefined": _("no percent change can be worked out from a first score of 0"),
            "down": _("%(percent)s lower"),
            "up": _("%(percent)s higher"),
            "remission": _("Remission range: below %(value)s"),
            "response": _(
                "Response: %(percent)s%% lower than your first score (%(value)s or less)"
            ),
            "axis": _("Score (higher means more symptoms)"),
        }
    return {
        "title": _("%(name)s over time"),
        "baseline": _("Baseline"),
        "measure": _("%(name)s score"),
        "one": _("%(name)s was %(score)s at baseline, on %(date)s."),
        "clause": _("%(name)s went from %(baseline)s at baseline to %(latest)s on %(date)s"),
        "undefined": _("no percent change from a baseline of 0"),
        "down": _("a %(percent)s drop"),
        "up": _("a %(percent)s rise"),
        "remission": _("Remission: below %(value)s"),
        "response": _("Response: %(percent)s%% below baseline (%(value)s or less)"),
        "axis": _("%(name)s score (0–%(max)s, higher = worse)"),
    }


def _row(k: Knowledge, prefix: list[Measure], spec: _Spec) -> Row:
    o = compute(k, prefix, spec.end)[spec.instrument]
    flags = {**o, "baseline": len(prefix) == 1, "worsening": o["worsening"] and not spec.simple}
    marks = tuple(mark for mark in MARKS if flags[mark])
    change = o["latest"] - o["baseline"]
    return Row(
        date=prefix[-1].date,
        day=_day(prefix[-1].date, spec),
        score=o["latest"],
        change_points=change,
        change_percent=o["percent_change"],
        change=_signed(change),
        percent=_percent(o["percent_change"], signed=True),
        marks=marks,
        notes=tuple(_mark_label(m, spec) for m in marks),
    )


def _day(d: date, spec: _Spec) -> str:
    return date_format(d, PATIENT_DATES[spec.language]) if spec.simple else d.isoformat()


def _signed(value: float, decimals: int = 0) -> str:
    text = number_format(value, decimal_pos=decimals)
    return f"+{text}" if value > 0 else text


def _percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    number = _signed(value, 1) if signed else number_format(value, decimal_pos=1)
    return _("%(number)s%%") % {"number": number}


def _mark_label(mark: str, spec: _Spec) -> str:
    return {
        "baseline": spec.words["baseline"],
        "measure": spec.words["measure"] % {"name": NAMES[spec.instrument]},
        "response": pgettext("chart mark", "Response"),
        "remission": pgettext("chart mark", "Remission"),
        "worsening": pgettext("chart mark", "Worsening"),
    }[mark]


def _summary(spec: _Spec, rows: tuple[Row, ...], o: dict[str, Any]) -> str:
    name = NAMES[spec.instrument]
    if not rows:
        return _("No %(name)s scores yet.") % {"name": name}
    first, last = rows[0], rows[-1]
    if len(rows) == 1:
        return spec.words["one"] % {"name": name, "score": first.score, "date": first.day}
    values = {"name": name, "baseline": first.score, "latest": last.score, "date": last.day}
    verdict, percent = _verdict(spec, o), last.change_percent
    if percent is None:  # from a baseline of 0 (PRODUCT.md "Outcomes")
        change = spec.words["undefined"]
    else:
        size = {"percent": _percent(abs(percent))}
        change = (
            _("no change") if percent == 0 else spec.words["down" if percent < 0 else "up"] % size
        )
    sentence = (
        _("%(clause)s: %(change)s — %(verdict)s.") if verdict else _("%(clause)s: %(change)s.")
    )
    return sentence % {
        "clause": spec.words["clause"] % values,
        "change": change,
        "verdict": verdict,
    }


def _verdict(spec: _Spec, o: dict[str, Any]) -> str:
    if spec.simple:  # only the good news has a name here; the numbers say the rest
        return {
            (True, True): _("a response, and in the remission range"),
            (True, False): _("a response"),
            (False, True): _("in the remission range"),
        }.get((bool(o["response"]), bool(o["remission"])), "")
    words = {
        "response": pgettext("outcome", "response"),
        "remission": pgettext("outcome", "remission"),
        "non_response": pgettext("outcome", "non-response"),
        "worsening": pgettext("outcome", "worsening"),
    }
    met = [word for key, word in words.items() if o[key]]
    return ", ".join(met) if met else _("neither response nor remission")


def _levels(spec: _Spec, baseline: int) -> list[_Level]:
    value = spec.remission_below
    policy = " " + _("(program policy)")
    long = spec.words["remission"] % {"value": value} + (policy if spec.remission_policy else "")
    out = [_Level("remission", value, _("remission < %(value)s") % {"value": value}, long)]
    if baseline > 0:  # from a baseline of 0 no response is defined
        level = baseline * (100 - spec.response_percent) / 100
        shown = number_format(level, decimal_pos=0 if level.is_integer() else 1)
        values = {"percent": spec.response_percent, "value": shown}
        short, long = _("response ≤ %(value)s") % values, spec.words["response"] % values
        long += policy if spec.response_policy else ""
        out.append(_Level("response", level, short, long))
    return out


# --- the drawing --------------------------------------------------------------------------------


def _el(tag: str, content: str = "", /, **attrs: object) -> SafeString:
    """An element; `class_` → class, `text_anchor` → text-anchor. Plain text is escaped."""
    html = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{conditional_escape(_attr(value))}"'
        for name, value in attrs.items()
    )
    return mark_safe(f"<{tag}{html}>{conditional_escape(content)}</{tag}>")


def _attr(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _join(parts: list[SafeString]) -> SafeString:
    return mark_safe("".join(parts))


def _shape(marks: tuple[str, ...]) -> str:
    return next((s for s in SHAPES if s in marks), "measure")


def _point(shape: str, s: float) -> SafeString:
    """Shapes, not colour alone: circle, square (baseline), diamond (remission), downward
    triangle (response: a drop), upward triangle (worsening: a rise)."""
    fill = COLOURS[shape]
    if shape == "measure":
        return _el("circle", r=s, fill="#ffffff", stroke=fill, stroke_width=2)
    if shape == "baseline":
        return _el("rect", x=-s, y=-s, width=2 * s, height=2 * s, fill=fill)
    a, b = s * 1.3, s * 0.8
    d = {
        "remission": f"M0,{-a:.1f} L{a:.1f},0 L0,{a:.1f} L{-a:.1f},0 Z",
        "response": f"M{-a:.1f},{-b:.1f} L{a:.1f},{-b:.1f} L0,{a:.1f} Z",
        "worsening": f"M{-a:.1f},{b:.1f} L{a:.1f},{b:.1f} L0,{-a:.1f} Z",
    }[shape]
    return _el("path", d=d, fill=fill)


def _symbol(inner: SafeString) -> SafeString:
    box = {"viewBox": "-12 -8 24 16", "width": 24, "height": 16}
    return _el("svg", inner, class_="legend-symbol", aria_hidden="true", focusable="false", **box)


def _legend_label(shape: str, spec: _Spec) -> str:
    if shape == "worsening":  # the table says "Worsening"; the legend says what it means
        worse = _("Worsening: up %(points)s or more points from baseline")
        return worse % {"points": spec.worsening_points}
    return _mark_label(shape, spec)


def _legend(spec: _Spec, rows: tuple[Row, ...], levels: list[_Level]) -> tuple[LegendItem, ...]:
    drawn = {_shape(r.marks) for r in rows}
    shapes = [s for s in ("measure", *SHAPES) if s in drawn]
    items = [LegendItem(s, _symbol(_point(s, 5.0)), _legend_label(s, spec)) for s in shapes]
    for level in levels:
        dash = {"stroke": LINE_COLOURS[level.kind], "stroke_dasharray": DASH, "stroke_width": 2}
        line = _el("line", x1=-11, x2=11, y1=0, y2=0, **dash)
        items.append(LegendItem(f"{level.kind}_line", _symbol(line), level.long))
    if spec.end and not spec.simple:
        line = _el("line", x1=0, x2=0, y1=-7, y2=7, stroke=AXIS, stroke_width=2)
        label = _("End of induction (%(date)s)") % {"date": _day(spec.end, spec)}
        items.append(LegendItem("end", _symbol(line), label))
    return tuple(items)


@dataclass(frozen=True, slots=True)
class _Plot:
    """Where a date and a score land: x proportional to the date, from the first to the last
    day shown; y from 0 at the bottom to the instrument's maximum at the top (higher = worse)."""

    width: int
    height: int
    font: int
    first: date
    last: date
    top_value: int
    left: int = 40  # room for the tick labels

    @property
    def right(self) -> int:
        return self.width - 16

    @property
    def top(self) -> float:
        return 2 * self.font + 8  # room for the axis title above

    @property
    def bottom(self) -> float:
        return self.height - 2 * self.font  # room for the dates below

    def x(self, d: date) -> float:
        days = max((self.last - self.first).days, 1)
        return self.left + (d - self.first).days / days * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - value / self.top_value * (self.bottom - self.top)


def _svg(
    spec: _Spec, rows: tuple[Row, ...], levels: list[_Level], title: str, desc: str
) -> SafeString:
    days = [r.date for r in rows] + ([spec.end] if spec.end and not spec.simple else [])
    size = (480, 300, 16) if spec.simple else (640, 320, 13)  # the patient's text is larger
    p = _Plot(*size, min(days), max(days), INSTRUMENTS[spec.instrument])
    dom_id = f"outcome-{spec.instrument}"
    parts = [
        _el("title", title, id=f"{dom_id}-title"),
        _el("desc", desc, id=f"{dom_id}-desc"),
        *_axes(p, spec),
        *(_threshold(p, level, below=_lowest(level, levels)) for level in levels),
        *(_induction_end(p, spec.end) if spec.end and not spec.simple else []),
        *_series(p, rows, spec),
    ]
    return _el("svg", _join(parts), xmlns=SVG_NS, class_="chart", role="img",
               viewBox=f"0 0 {p.width} {p.height}", aria_labelledby=f"{dom_id}-title {dom_id}-desc",
               fill=INK, font_family="system-ui, sans-serif", font_size=p.font)  # fmt: skip


def _axes(p: _Plot, spec: _Spec) -> list[SafeString]:
    title = spec.words["axis"] % {"name": NAMES[spec.instrument], "max": p.top_value}
    values = (0, p.top_value) if spec.simple else range(0, p.top_value + 1, 5)
    ticks = [_el("text", str(v), x=p.left - 6, y=p.y(v) + p.font / 3, text_anchor="end")
             for v in values]  # fmt: skip
    for d, x, anchor in ((p.first, p.left, "start"), (p.last, p.right, "end")):
        ticks.append(_el("text", _day(d, spec), x=x, y=p.height - p.font / 2, text_anchor=anchor))
    return [
        _el("text", title, x=4, y=p.font + 2),
        _el("line", class_="axis y", x1=p.left, x2=p.left, y1=p.top, y2=p.bottom, stroke=AXIS),
        _el("line", class_="axis x", x1=p.left, x2=p.right, y1=p.bottom, y2=p.bottom, stroke=AXIS),
        _el("g", _join(ticks), fill=AXIS),
    ]


def _lowest(level: _Level, levels: list[_Level]) -> bool:
    """The lower of two lines is labelled below it, so two labels never share the gap."""
    return len(levels) > 1 and level.value == min(other.value for other in levels)


def _threshold(p: _Plot, level: _Level, *, below: bool) -> SafeString:
    y, colour = p.y(level.value), LINE_COLOURS[level.kind]
    x, anchor = (p.right - 14, "end") if level.kind == "remission" else (p.left + 12, "start")
    line = _el("line", class_=f"threshold {level.kind}", data_value=level.value, x1=p.left,
               x2=p.right, y1=y, y2=y)  # fmt: skip
    label = _el("text", level.short, x=x, y=y + p.font if below else y - 4, text_anchor=anchor,
                stroke="none", fill=colour)  # fmt: skip
    return _el("g", _join([line, label]), stroke=colour, stroke_width=1.5, stroke_dasharray=DASH)


def _induction_end(p: _Plot, end: date) -> list[SafeString]:
    x = p.x(end)
    return [
        _el("line", class_="induction-end", x1=x, x2=x, y1=p.top, y2=p.bottom, stroke=AXIS),
        _el("text", _("end of induction"), x=x - 4, y=p.top + p.font, text_anchor="end", fill=AXIS),
    ]


def _series(p: _Plot, rows: tuple[Row, ...], spec: _Spec) -> list[SafeString]:
    points = " ".join(f"{p.x(r.date):.1f},{p.y(r.score):.1f}" for r in rows)
    out = [_el("polyline", class_="series", points=points, fill="none", stroke=COLOURS["measure"],
               stroke_width=2)]  # fmt: skip
    for r in rows:
        shape, move = _shape(r.marks), f"translate({p.x(r.date):.1f} {p.y(r.score):.1f})"
        point = _point(shape, 7.0 if spec.simple else 5.0)
        out.append(_el("g", point, class_=f"point {shape}", data_score=r.score, transform=move))
    return out


def course_charts(
    k: Knowledge,
    measures: list[Measure],
    induction_end: date | None,
    language: str,
    *,
    simple: bool,
) -> list[Chart]:
    """The PHQ-9 and GAD-7 charts of one course (the clinician's, or the patient's simple one)."""
    return [
        chart(
            k, measures, instrument, induction_end=induction_end, language=language, simple=simple
        )
        for instrument in ("phq9", "gad7")
    ]
