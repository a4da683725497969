"""Course rules: what a treatment course's state allows next. Pure: no I/O, no clock.

Issue 5 item 6 and PRODUCT.md step 5. A session moves through these states:

    scheduled ──pre: proceed──▶ ready ──post──▶ done
        │                         ▲
        └──pre: hold──▶ held ──clinician clears──┘     (or the clinician cancels it)

A held session can never become done until a clinician clears it (`session_after`); that is the
property the tests check over every sequence of events. The course around the sessions pauses at
the re-evaluation point or the program cap, after an emergency reported in an after-session
check, and after new bladder symptoms reported in a weekly check-in, until the physician decides
(continue / stop / change), and is suspended by any positive safety screen until a clinician
documents a risk assessment — which brings it back to paused, not active, while that decision is
still owed. The numbers are program policy in policy.toml [course], each citing
its source. crossline never computes or suggests a dose: the only counts here are sessions, days
and supplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crossline.engine.knowledge import Knowledge, whole_numbers

# --- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoursePolicy:
    """The [course] values of policy.toml (each cites its source there)."""

    sessions_before_reevaluation: int
    fasting_food_hours: int
    fasting_liquid_minutes: int
    checkin_link_hours: int
    weekly_every_days: int
    bladder_every_days: int
    missed_after_hours: int
    reminder_hours_before: int
    early_refill_doses_left: int


def course_policy(k: Knowledge) -> CoursePolicy:
    return CoursePolicy(**whole_numbers(k, "course", CoursePolicy.__annotations__))


# --- sessions ---------------------------------------------------------------------------------

SCHEDULED, READY, HELD, DONE, MISSED, CANCELLED = (
    "scheduled",
    "ready",
    "held",
    "done",
    "missed",
    "cancelled",
)
SESSION_STATES = (SCHEDULED, READY, HELD, DONE, MISSED, CANCELLED)
FINISHED = frozenset({DONE, MISSED, CANCELLED})

# Events: ("pre", "proceed"|"hold"), ("post", _), ("clear", _), ("cancel", _), ("miss", _),
# ("done", _) — the last is a clinician marking a session done (e.g. reported by phone).


class CourseRuleError(Exception):
    """An action the course rules do not allow now; the message says why, in plain words."""


def session_after(state: str, event: str, outcome: str = "") -> str:
    """The session's state after `event`, or CourseRuleError when the rules refuse it."""
    if state in FINISHED:
        raise CourseRuleError(f"the session is {state} already")
    if event == "pre":
        if state == HELD:
            raise CourseRuleError("the session is held: a clinician must clear it first")
        if state == READY:
            raise CourseRuleError("the pre-session check-in is in already")
        return HELD if outcome == "hold" else READY
    if event in ("post", "done"):
        if state == HELD:
            raise CourseRuleError("the session is held: a clinician must clear it first")
        if state == SCHEDULED:
            raise CourseRuleError("the pre-session check-in comes first")
        return DONE
    if event == "clear":
        if state != HELD:
            raise CourseRuleError("only a held session can be cleared")
        return READY
    if event == "cancel":
        return CANCELLED
    if event == "miss":
        if state == HELD:
            raise CourseRuleError("the session is held: a clinician must clear or cancel it")
        return MISSED
    raise CourseRuleError(f"unknown event {event!r}")


# --- the course -------------------------------------------------------------------------------

ACTIVE, PAUSED, SUSPENDED, STOPPED = "active", "paused", "suspended", "stopped"
COURSE_STATES = (ACTIVE, PAUSED, SUSPENDED, STOPPED)
DECISIONS = ("continue", "stop", "change")


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """What the course rules need to know about a course, read from the records."""

    status: str  # one of COURSE_STATES
    sessions_planned: int  # the sessions in this block (≤ the cap)
    sessions_done: int  # done in this block
    reevaluation_after: int  # the re-evaluation point: sessions done in this block
    open_session: bool  # a session is scheduled, ready or held
    previous_after_check_in: bool  # the last finished session's after-check is in (or none)
    consent_signed: bool  # the current treatment consent version is signed


def block_finished(f: CourseFacts) -> bool:
    """The course reached its re-evaluation point or its planned sessions (the cap)."""
    return f.sessions_done >= min(f.sessions_planned, f.reevaluation_after)


def status_after_session(f: CourseFacts) -> str:
    """After a session is done: paused for the physician at the re-evaluation point."""
    if f.status == ACTIVE and block_finished(f):
        return PAUSED
    return f.status


def may_schedule(f: CourseFacts, override_reason: str = "") -> str | None:
    """None when the next session may be scheduled; otherwise the reason it may not."""
    if f.status == SUSPENDED:
        return "the course is suspended until a clinician documents a risk assessment"
    if f.status == PAUSED:
        return "the course is paused until the physician decides (continue, change or stop)"
    if f.status == STOPPED:
        return "the course is stopped"
    if block_finished(f):
        return "the planned sessions are done: the physician re-evaluates first"
    if f.open_session:
        return "a session is already scheduled"
    if not f.previous_after_check_in and not override_reason.strip():
        return (
            "the previous session's after-check is not in (a clinician may override with a reason)"
        )
    return None


def may_start(f: CourseFacts) -> str | None:
    """None when a session's pre-check-in may be taken; otherwise why not."""
    if not f.consent_signed:
        return "the current treatment consent is not signed"
    if f.status != ACTIVE:
        return f"the course is {f.status}"
    return None


def may_go_ahead(f: CourseFacts) -> str | None:
    """None when a held session may be cleared to go ahead; otherwise why not. A suspended
    course (a positive safety answer) needs the documented risk assessment first, and a paused
    or stopped one the physician's decision: clearing the hold must not let a dose be taken."""
    if f.status != ACTIVE:
        return f"the course is {f.status}: it must be active before a session may go ahead"
    return None


HIGH_RISK_REFUSAL = (
    "the latest documented suicide-risk assessment is high, and current high suicide risk rules "
    "out home sessions: document a new risk assessment first (or stop the course)"
)


def status_after_decision(decision: str, latest_risk: str = "") -> str:
    """The course's state after the physician's decision. Continue and change make home
    sessions possible again, so they are refused while the latest documented suicide-risk
    assessment (`latest_risk`, "" when none) is high: current high suicide risk rules out home
    dosing (FACTS §B4; PRODUCT.md: never while the documented risk is high). Stop always may."""
    if decision not in DECISIONS:
        raise CourseRuleError(f"decision must be one of {', '.join(DECISIONS)}")
    if decision == "stop":
        return STOPPED
    if latest_risk == "high":
        raise CourseRuleError(HIGH_RISK_REFUSAL)
    return ACTIVE


def stale_after_pause(state: str) -> bool:
    """A session open when its course comes back to active after a pause or a suspension,
    whose go-ahead no longer holds. A ready session's go-ahead came from a pre-session check-in
    answered before the pause (blood pressure then, fasting and alcohol on that day): it is
    cancelled, and the next session asks for a new check-in. A scheduled one has no check-in
    yet (it will be asked); a held one waits for a clinician, who clears or cancels it with a
    note."""
    return state == READY


# Reports from the patient that pause an active course until the physician decides (continue,
# change or stop), the most urgent first: the order names a pause when more than one applies.
# - `emergency`: an after-session check whose decision is an emergency (the check-in rules'
#   911 answers: sedation at most 2, a breathing problem, a symptom of target-organ damage —
#   FACTS §B1, §B6, checkin.toml). Program-safety policy, not a clinical rule: FACTS says what
#   an emergency is, not what a program does with the course afterwards (ADR 0006).
# - `bladder`: new or worse bladder or urinary symptoms in a weekly check-in (weekly.py's
#   `weekly.bladder_symptoms`). FACTS §B4's rule table: interstitial cystitis or chronic lower
#   urinary tract symptoms (LUTS) — "monitor; stop if new LUTS" (Spravato W&P [S45c]; Ketalar
#   2.1/6 [S34][S37]). Stopping is the physician's decision; no further session goes ahead
#   before it.
EMERGENCY, BLADDER = "emergency", "bladder"
REPORTS = (EMERGENCY, BLADDER)

# Why a paused course waits for the physician's decision (`Course.status_reason`), the most
# urgent first: the order names a pause when more than one applies. A documented high suicide
# risk first (continue and change are refused while it is the latest: `status_after_decision`),
# then the reports (new, not yet seen by a physician), then a high risk a later assessment rated
# low or moderate (a clinician has seen it; the physician still decides whether home sessions
# resume), then the re-evaluation point (routine).
RISK_HIGH, RISK_REASSESSED, REEVALUATION = "risk_high", "risk_reassessed", "reevaluation"
PAUSE_REASONS = (RISK_HIGH, EMERGENCY, BLADDER, RISK_REASSESSED, REEVALUATION)


def pause_after_report(current: str, reason: str, report: str) -> tuple[str, str]:
    """The course's state and the reason it is in it (`Course.status_reason`) after `report`
    (one of REPORTS). An active course pauses, named for the report, so no further session
    starts before the physician has decided. A course already paused for a less urgent reason
    (PAUSE_REASONS: the re-evaluation point, a high risk since re-assessed lower, a less urgent
    report) is named for this one: the same decision answers both. A pause for a documented
    high risk, a suspension and a stop keep their state and reason: none lets a session start,
    and a suspension lifted by a risk assessment then pauses for the physician
    (`status_after_risk_assessment`)."""
    if report not in REPORTS:
        raise CourseRuleError(f"report must be one of {', '.join(REPORTS)}")
    if current == ACTIVE:
        return PAUSED, report
    if current == PAUSED and _outranks(report, reason):
        return PAUSED, report
    return current, reason


def _outranks(report: str, reason: str) -> bool:
    """A report names a pause for a less urgent reason (PAUSE_REASONS: the re-evaluation point,
    a high risk since re-assessed lower, a less urgent report) — what the physician must read
    first; a pause for a documented high risk keeps its own reason."""
    return reason in PAUSE_REASONS and PAUSE_REASONS.index(report) < PAUSE_REASONS.index(reason)


def most_urgent(reasons: Iterable[str]) -> str:
    """The reason (PAUSE_REASONS) a pause is named for when several wait for the decision (""
    when none)."""
    waiting = set(reasons)
    return next((r for r in PAUSE_REASONS if r in waiting), "")


def status_after_risk_assessment(
    current: str, reason: str, risk: str, owed: Iterable[str] = ()
) -> tuple[str, str]:
    """The course's state and its reason (`Course.status_reason`) after a documented
    suicide-risk assessment. `owed`: why the physician's decision (continue, change or stop) is
    owed now, read from the records (PAUSE_REASONS: a report no decision has answered since, a
    high risk documented since the latest decision — RISK_HIGH —, the block's sessions done).
    The assessment answers a suicide-risk answer, never the decision a pause waits for:

    - a high risk pauses any course not stopped for it (RISK_HIGH), an active one too (the
      page offers the form on suspended and paused courses, but an assessment is a clinician's
      record whenever it is made): current high suicide risk keeps home sessions off
      (PRODUCT.md: never while risk is high);
    - otherwise a suspension is lifted, back to active only when no decision is owed — else
      paused, named for the most urgent owed reason (a suspension of a paused course is lifted
      back to the pause), a high risk since the decision named RISK_REASSESSED: it is not the
      latest any more, but the physician decides;
    - a pause stays a pause (only the physician's decision ends it), its reason made true the
      same way: one for a high risk that is re-assessed low or moderate becomes RISK_REASSESSED;
    - otherwise an active or stopped course is unchanged.
    """
    if current == STOPPED:
        return current, reason
    if risk == "high":
        return PAUSED, RISK_HIGH
    if current not in (SUSPENDED, PAUSED):
        return current, reason
    # A pause's own reason is owed until the physician decides, whatever the records say.
    waiting = [*owed, reason] if current == PAUSED else list(owed)
    named = most_urgent(RISK_REASSESSED if r == RISK_HIGH else r for r in waiting)
    if named:
        return PAUSED, named
    return (PAUSED, reason) if current == PAUSED else (ACTIVE, "")


# --- questionnaires and reminders -------------------------------------------------------------


def weekly_due(start: date, weeks: int, p: CoursePolicy) -> list[tuple[date, bool]]:
    """The weekly questionnaires of a course: (due date, bladder questions asked). The first is
    the baseline, due on the start date (before the first session)."""
    out = []
    for week in range(weeks):
        offset = week * p.weekly_every_days
        out.append((start + timedelta(days=offset), offset % p.bladder_every_days == 0))
    return out


# --- dispensing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Supply:
    dispensed_on: date
    doses: int  # as written by the physician, counted in the plan's units
    doses_reported_left: int | None  # what the patient reported left of earlier supplies


def dispensing_flags(
    supplies: Iterable[Supply],
    taken: Iterable[tuple[date, int]],
    per_session: int | None,
    p: CoursePolicy,
) -> list[dict[str, Any]]:
    """Flags for the physician (FACTS §B1 abuse and misuse; policy.course_dispensing), from the
    supplies and the doses each session's after-check reported taken, by session date:

    - `more_than_prescribed`: a session's after-check reported more doses than the plan's per
      session (`per_session`; None when the plan does not say: nothing to compare with);
    - `early_refill`: a supply recorded while the earlier supplies should still hold at least
      `early_refill_doses_left` doses (dispensed before − taken before);
    - `unaccounted`: the patient reported fewer doses left than dispensed before − taken before;
    - `more_than_dispensed`: more doses reported taken in the course than dispensed by then
      (see `more_than_dispensed` for what is compared).
    """
    supplies = list(supplies)  # read twice
    flags: list[dict[str, Any]] = []
    sessions = sorted(taken)
    for day, count in sessions:
        if per_session is not None and count > per_session:
            flags.append({"flag": "more_than_prescribed", "on": day, "doses": count})
    dispensed = 0
    for supply in sorted(supplies, key=lambda s: s.dispensed_on):
        if dispensed:
            before = sum(count for day, count in sessions if day < supply.dispensed_on)
            expected_left = max(dispensed - before, 0)
            if expected_left >= p.early_refill_doses_left:
                flags.append(
                    {
                        "flag": "early_refill",
                        "on": supply.dispensed_on,
                        "expected_left": expected_left,
                    }
                )
            reported = supply.doses_reported_left
            if reported is not None and reported < expected_left:
                flags.append(
                    {
                        "flag": "unaccounted",
                        "on": supply.dispensed_on,
                        "doses": expected_left - reported,
                    }
                )
        dispensed += supply.doses
    return flags + more_than_dispensed(supplies, sessions)


def more_than_dispensed(
    supplies: Iterable[Supply], taken: Iterable[tuple[date, int]]
) -> list[dict[str, Any]]:
    """A `more_than_dispensed` flag for each day whose sessions reported doses taken while the
    course's total reported taken (`taken`) is beyond the doses of the supplies dispensed by
    then (`dispensed`): medicine from somewhere the records do not show, a supply not recorded,
    or a miscount — for the physician to find out, never an amount to act on.

    What is comparable, and only that: supplies carry a day, not a time, so a supply dispensed
    on a session's day counts as in hand for it. Before any supply is recorded nothing is
    compared: the records then hold no dispensing at all (a program may keep it elsewhere), and
    every session would be flagged. Supplies are counted in the plan's units as written, the
    after-check asks the patient for "doses": the counts are compared as they are, as the other
    flags do. Where the plan's units per session is more than 1, a patient counting a session's
    dose as one reports fewer than the units taken, so an excess can be missed, never invented.
    """
    supplies = list(supplies)
    if not supplies:
        return []
    per_day: dict[date, int] = {}
    for day, count in taken:
        per_day[day] = per_day.get(day, 0) + count
    flags: list[dict[str, Any]] = []
    total = 0
    for day in sorted(per_day):
        total += per_day[day]
        dispensed = sum(s.doses for s in supplies if s.dispensed_on <= day)
        if per_day[day] and total > dispensed:
            flags.append(
                {"flag": "more_than_dispensed", "on": day, "taken": total, "dispensed": dispensed}
            )
    return flags


def doses_in_hand(supplies: Iterable[Supply], taken: Iterable[tuple[date, int]]) -> int:
    """Dispensed minus taken: what the patient should hold now (never below 0)."""
    return max(sum(s.doses for s in supplies) - sum(count for _, count in taken), 0)


def summarise_states(counts: Mapping[str, int]) -> dict[str, int]:
    """Every course state with its count (0 when none), in the order of COURSE_STATES."""
    return {state: counts.get(state, 0) for state in COURSE_STATES}
