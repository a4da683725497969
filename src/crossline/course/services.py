"""Every change to a course, each in one transaction with its audit event and its alerts.

Views and the worker call these; they never change course rows themselves. The state rules are
the engine's (`crossline.engine.course`, `checkin`, `weekly`, `outcomes`), so the web app and the
command line decide alike. Errors a person can act on are `CourseError` (plain message) or the
engine's `InvalidInput` (every bad field named); either way nothing is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeGuard
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from crossline import __version__
from crossline.audit import Action, record
from crossline.care.alerts import acknowledge_answered, raise_alert
from crossline.care.models import Alert
from crossline.clinic.models import Case
from crossline.course.models import (
    CheckIn,
    ConsentSignature,
    Course,
    CourseDecision,
    FirstStep,
    RecoveryPlan,
    RiskAssessment,
    Session,
    Weekly,
)
from crossline.crypto import token_hash
from crossline.engine import course as rules
from crossline.engine.checkin import (
    PRE_SAFETY_RULE,
    CheckinDecision,
    checkin_policy,
    evaluate_checkin,
)
from crossline.engine.instruments import safety_level
from crossline.engine.knowledge import LANGUAGES, Knowledge
from crossline.engine.outcomes import Measure, compute
from crossline.engine.weekly import BLADDER_RULE as WEEKLY_BLADDER_RULE
from crossline.engine.weekly import SAFETY_RULE as WEEKLY_SAFETY_RULE
from crossline.engine.weekly import evaluate_weekly, reasons_with_citations
from crossline.evaluation.models import Decision
from crossline.intake.models import new_token
from crossline.program.consent import current_published
from crossline.program.policy import current_knowledge
from crossline.visits.zones import ZONES, LocalTimeError, single_moment


class CourseError(Exception):
    """The course rules refuse this now; the message says why in plain words."""


# --- reading ------------------------------------------------------------------------------------


def policy(k: Knowledge | None = None) -> rules.CoursePolicy:
    return rules.course_policy(k or current_knowledge())


def facts(course: Course) -> rules.CourseFacts:
    sessions = list(course.sessions.all())
    in_block = [s for s in sessions if s.block == course.block]
    finished = [s for s in sessions if s.status in rules.FINISHED]
    last = finished[-1] if finished else None
    after_in = (
        last is None
        or last.status == rules.CANCELLED
        or last.checkins.filter(kind=CheckIn.Kind.POST).exists()
    )
    return rules.CourseFacts(
        status=course.status,
        sessions_planned=course.sessions_planned,
        sessions_done=sum(1 for s in in_block if s.status == rules.DONE),
        reevaluation_after=course.reevaluation_after,
        open_session=any(s.status not in rules.FINISHED for s in sessions),
        previous_after_check_in=after_in,
        consent_signed=consent_signed(course),
    )


@dataclass(frozen=True)
class ConsentWording:
    version: str
    text: dict[str, str]  # language -> text


def current_consent() -> ConsentWording:
    """The newest published treatment consent, or the knowledge copy's built-in wording."""
    published = current_published("treatment")
    if published is not None:
        return ConsentWording(published.version, {"en": published.text_en, "es": published.text_es})
    section = current_knowledge().copy["consent"]["treatment"]
    return ConsentWording(str(section["version"]), dict(section["text"]))


def consent_signed(course: Course) -> bool:
    return course.consents.filter(version=current_consent().version).exists()


def measured_on(due_on: date | None, submitted_at: datetime) -> date:
    """A weekly score's day: its questionnaire's due day (ADR 0006: dated by their link) — not
    the UTC day it was sent, which for an evening answer in the Americas is the next day and
    could move it past the end of induction. The course page and the program's outcomes both
    date scores so."""
    return due_on if due_on is not None else submitted_at.date()


def measures(course: Course) -> list[Measure]:
    """The course's weekly scores as outcome measures, each dated by `measured_on`."""
    out = []
    for c in course.checkins.filter(kind=CheckIn.Kind.WEEKLY).select_related("weekly"):
        scores = c.decision["scores"]
        on = measured_on(c.weekly.due_on if c.weekly is not None else None, c.submitted_at)
        out.append(Measure(on, {"phq9": scores["phq9"], "gad7": scores["gad7"]}))
    return out


def outcome(course: Course, k: Knowledge | None = None) -> dict[str, Any]:
    return compute(k or current_knowledge(), measures(course), course.induction_end)


# --- planning -----------------------------------------------------------------------------------


# How often the sessions may run: the physician's choice among these, none preselected (oral and
# sublingual schedules vary, FACTS §D3). The plan form offers exactly these.
SESSIONS_PER_WEEK = (1, 2, 3)


def approved(case: Case) -> bool:
    ev = getattr(case, "evaluation", None)
    return ev is not None and ev.decision == Decision.APPROVE


def local_today(now: datetime, zone: str) -> date:
    """Today's date in `zone` (the course's time zone), at `now`."""
    return now.astimezone(ZoneInfo(zone)).date()


def a_year_after(day: date) -> date:
    """The same day next year (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def within_a_year(day: date, today: date) -> str | None:
    """None when `day` is from `today` to a year from it; otherwise the error to show."""
    last = a_year_after(today)
    if today <= day <= last:
        return None
    return f"Choose a day from today to a year from now ({today} to {last})."


def _whole(value: object) -> TypeGuard[int]:
    """A whole number, not a bool (True would pass as 1) nor a string of digits."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_plan(
    *,
    start_date: object,
    sessions_planned: object,
    sessions_per_week: object,
    time_zone: object,
    language: object,
    cap: int,
    now: datetime,
) -> None:
    """CourseError, naming the field, for a plan the plan form would refuse: any caller (the
    form's view, the tests, the shell, a future API) is held to the same rules, from the same
    values. The start is a day from today to a year from now where the sessions take place: a
    course started in the past would owe questionnaires from before it was planned (and raise
    a missed alert for each). Every zone offered is an IANA name (`visits.zones`)."""
    if not _whole(sessions_planned) or not 1 <= sessions_planned <= cap:
        raise CourseError(f"sessions: from 1 to the program cap of {cap}")
    if not _whole(sessions_per_week) or sessions_per_week not in SESSIONS_PER_WEEK:
        raise CourseError("sessions_per_week: 1, 2 or 3 sessions a week")
    if time_zone not in ZONES:
        raise CourseError("time_zone: choose one of the time zones the plan form offers")
    if language not in LANGUAGES:
        raise CourseError("language: en or es")
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        raise CourseError("start_date: a day (a date, without a time)")
    problem = within_a_year(start_date, local_today(now, str(time_zone)))
    if problem:
        raise CourseError(f"start_date: {problem}")


class PlanText(NamedTuple):
    """A text of the plan: its longest, and whether the plan form requires it."""

    longest: int
    required: bool


# The plan as the physician writes it on the plan form (`forms.PlanForm.plan()` builds it; the
# form's fields take these bounds). Its shape is checked, never what it says: the prescription is
# the physician's, which crossline never computes or suggests.
PLAN_TEXTS: dict[str, PlanText] = {
    "medication": PlanText(200, required=True),
    "form": PlanText(200, required=False),  # the form's "route" field: form and route
    "strength": PlanText(200, required=False),
    "prescription_text": PlanText(4000, required=True),  # kept as typed, spacing and all
    "monitor_name": PlanText(200, required=True),
    "notes": PlanText(4000, required=False),
}
# The physician's count, used only to count doses taken and dispensed (`dispensing.per_session`,
# which reads any other value — True included — as no count: the "more than prescribed" check
# off).
MAX_UNITS_PER_SESSION = 99
PLAN_FIELDS = frozenset({*PLAN_TEXTS, "units_per_session"})


def check_plan_contents(plan: object) -> None:
    """CourseError, naming the field (`plan.units_per_session`), for a plan the plan form would
    not build: each of its fields, each text within its length and there when required, and
    the units per session a whole number from 1 to 99. Nothing else: another field would be
    stored unseen (the course page shows these)."""
    if not isinstance(plan, dict):
        raise CourseError("plan: the plan form's fields")
    unknown = sorted(str(key) for key in set(plan) - PLAN_FIELDS)
    if unknown:
        raise CourseError(f"plan.{unknown[0]}: not a field of the plan form")
    for key, text in PLAN_TEXTS.items():
        _check_plan_text(key, plan.get(key), text)
    units = plan.get("units_per_session")
    if not _whole(units) or not 1 <= units <= MAX_UNITS_PER_SESSION:
        raise CourseError(
            f"plan.units_per_session: a whole number from 1 to {MAX_UNITS_PER_SESSION}, as "
            "written on the prescription"
        )


def _check_plan_text(key: str, value: object, text: PlanText) -> None:
    """The plan form's rules for one text: a required one is not blank once trimmed; none is
    longer than its field takes, nor holds a null character (Django's forms refuse one)."""
    if not isinstance(value, str):
        raise CourseError(f"plan.{key}: text" + ("" if text.required else ", blank when none"))
    if text.required and not value.strip():
        raise CourseError(f"plan.{key}: required")
    if len(value) > text.longest:
        raise CourseError(f"plan.{key}: at most {text.longest} characters")
    if "\x00" in value:
        raise CourseError(f"plan.{key}: no null characters")


def plan_course(
    case: Case,
    *,
    plan: dict[str, Any],
    start_date: date,
    sessions_planned: int,
    sessions_per_week: int,
    time_zone: str,
    language: str,
    result_token: str | None,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> Course:
    """A physician's plan for an approved case: the course, its weekly questionnaires (the
    first, on the start date, is the baseline) and the pre-session rules in force now."""
    k = current_knowledge()
    p = policy(k)
    if not approved(case):
        raise CourseError("only an approved evaluation can have a course")
    if Course.objects.filter(case=case).exists():
        raise CourseError("this case has a course already")
    check_plan(
        start_date=start_date,
        sessions_planned=sessions_planned,
        sessions_per_week=sessions_per_week,
        time_zone=time_zone,
        language=language,
        cap=p.sessions_before_reevaluation,
        now=now,
    )
    check_plan_contents(plan)
    weeks_to_end = math.ceil(sessions_planned / sessions_per_week)
    with transaction.atomic():
        course = Course.objects.create(
            case=case,
            start_date=start_date,
            sessions_planned=sessions_planned,
            reevaluation_after=sessions_planned,
            sessions_per_week=sessions_per_week,
            induction_end=start_date + timedelta(weeks=weeks_to_end),
            time_zone=time_zone,
            language=language,
            plan=plan,
            rules_snapshot=rules_in_force(k),
            knowledge_version=k.version,
            policy_version=k.policy.version,
            result_token=result_token,
            planned_by=user,
            planned_at=now,
        )
        add_weeklies(course, start_date, weeks_to_end + 1, first_number=0, p=p)
        record(
            Action.COURSE_PLANNED,
            request=request,
            actor=user,
            patient=case.public_id,
            object_type="course",
            object_id=course.public_id,
            detail={"sessions": sessions_planned, "per_week": sessions_per_week},
        )
    return course


def rules_in_force(k: Knowledge) -> dict[str, Any]:
    """The pre-session rules shown with the plan: policy values and their citations."""
    c, p = checkin_policy(k), policy(k)
    cites = k.docs["policy.toml"]
    return {
        "bp_hold_above": [c.pre_systolic_above, c.pre_diastolic_above],
        "pulse_hold_above": c.pre_pulse_above,
        "fasting_food_hours": p.fasting_food_hours,
        "fasting_liquid_minutes": p.fasting_liquid_minutes,
        "citations": {
            "bp_hold_above": cites["checkin"]["citations"]["pre_systolic_above"],
            "pulse_hold_above": cites["checkin"]["citations"]["pre_pulse_above"],
            "fasting": cites["course"]["citations"]["fasting_food_hours"],
        },
    }


def add_weeklies(
    course: Course, start: date, weeks: int, *, first_number: int, p: rules.CoursePolicy
) -> None:
    for offset, (due, bladder) in enumerate(rules.weekly_due(start, weeks, p)):
        token = new_token()
        Weekly.objects.create(
            course=course,
            number=first_number + offset,
            due_on=due,
            bladder=bladder,
            token_hash=token_hash(token),
            token=token,
            link_expires_at=_end_of(due + timedelta(days=p.weekly_every_days), course.time_zone),
        )


def _end_of(day: date, zone: str) -> datetime:
    """23:59 on `day` on the course's clock: a link that runs out at 23:59 UTC would die at
    18:59 or 19:59 in New York, hours before the day it names is over for the patient."""
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(zone))


def session_time_problem(when: datetime, zone: str, now: datetime) -> str | None:
    """None when `when` is still ahead at `now`, on a day (in `zone`, the course's) from today
    to a year from now there; otherwise the error to show. A session in the past would ask for
    a check-in already too late; one far ahead (2999) would stand as the open session and block
    all real scheduling. The schedule form shows this error; schedule_session refuses with it."""
    if when <= now:
        return "Choose a date and time in the future."
    return within_a_year(when.astimezone(ZoneInfo(zone)).date(), local_today(now, zone))


def check_session_time(when: object, zone: str, now: datetime) -> datetime:
    """`when` as the moment it names (UTC), or CourseError naming it for a time the schedule
    form would refuse: a time with no zone (no moment at all), one the clocks it was written on
    skip or show twice (`visits.zones.single_moment`, the form's rule through `local_instant`),
    or one not ahead within a year (`session_time_problem`)."""
    if not isinstance(when, datetime) or when.utcoffset() is None:
        raise CourseError("when: a date and time with its time zone")
    try:
        instant = single_moment(when)
    except LocalTimeError as error:
        raise CourseError(f"when: {error}") from error
    problem = session_time_problem(instant, zone, now)
    if problem:
        raise CourseError(f"when: {problem}")
    return instant


def schedule_session(
    course: Course,
    when: datetime,
    *,
    override_reason: str = "",
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> tuple[Session, str]:
    """The next session, with its own private link (returned once, stored encrypted for the
    reminders). Refused while the previous after-check is missing, unless overridden, and for
    a time the schedule form would refuse (`check_session_time`)."""
    when = check_session_time(when, course.time_zone, now)
    p = policy()
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        f = facts(locked)
        why_not = rules.may_schedule(f, override_reason)
        if why_not:
            raise CourseError(why_not)
        token = new_token()
        number = (
            locked.sessions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        session = Session.objects.create(
            course=locked,
            block=locked.block,
            number=number,
            scheduled_for=when,
            token_hash=token_hash(token),
            token=token,
            link_expires_at=when + timedelta(hours=p.checkin_link_hours),
            scheduled_by=user,
            scheduled_at=now,
            override_reason={"reason": override_reason} if not f.previous_after_check_in else None,
        )
        record(
            Action.SESSION_SCHEDULED,
            request=request,
            actor=user,
            patient=locked.case.public_id,
            object_type="session",
            object_id=session.public_id,
            detail={"number": number, "override": not f.previous_after_check_in},
        )
    return session, token


# --- the patient's side ---------------------------------------------------------------------------


def session_by_token(token: str) -> Session | None:
    return (
        Session.objects.select_related("course", "course__case")
        .filter(token_hash=token_hash(token))
        .first()
    )


def weekly_by_token(token: str) -> Weekly | None:
    return (
        Weekly.objects.select_related("course", "course__case")
        .filter(token_hash=token_hash(token))
        .first()
    )


def pre_checkin_opens_at(session: Session) -> datetime:
    """When the session's pre-session check-in opens: midnight at the start of the session's
    day in the course's time zone (as UTC). Its questions are about that day — fasting,
    alcohol, sedatives and stimulants today, blood pressure and pulse now — and its answer is a
    go-ahead for today's session, so answers from an earlier day are not taken. It stays open
    after the session's time until the session is missed (`missed_after_hours`, the worker) or
    its link expires: a late check-in is still answered just before the dose."""
    zone = ZoneInfo(session.course.time_zone)
    day = session.scheduled_for.astimezone(zone).date()
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def sign_consent(course: Course, name: str, language: str, now: datetime) -> ConsentSignature:
    name = name.strip()
    if not name:
        raise CourseError("signed_name: type your full name to sign")
    wording = current_consent()
    with transaction.atomic():
        signature, created = ConsentSignature.objects.get_or_create(
            course=course,
            version=wording.version,
            defaults={"signed_name": {"name": name[:200]}, "language": language, "signed_at": now},
        )
        if created:
            record(
                Action.CONSENT_SIGNED,
                actor="patient",
                patient=course.case.public_id,
                object_type="course",
                object_id=course.public_id,
                detail={"version": wording.version},
            )
    return signature


# The doses a patient may report taken at one session: the after-check form's bound too (a count
# typed by the patient, which the dispensing records compare with the plan and the supplies).
MAX_DOSES_TAKEN = 20


def submit_session_checkin(
    session: Session,
    kind: str,
    answers: object,
    language: str,
    now: datetime,
    doses_taken: int | None = None,
) -> CheckIn:
    """A pre- or after-session check-in: validated and decided by the engine, stored with its
    versions, the session moved on (a hold holds it), alerts raised — one transaction.
    `doses_taken` (after the session) is the patient's count, for the dispensing records."""
    k = current_knowledge()
    decision = evaluate_checkin(k, kind, answers, language)  # InvalidInput: nothing stored
    doses = doses_taken if kind == "post" else None
    if doses is not None and (not _whole(doses) or not 0 <= doses <= MAX_DOSES_TAKEN):
        # A negative count reached the database's constraint (a server error); a larger one
        # than the form's would be compared with the supplies as if it were a real count.
        raise CourseError(f"doses_taken: from 0 to {MAX_DOSES_TAKEN}")
    with transaction.atomic():
        # The course first, then the session: the order every course change locks them in
        # (a risk assessment locks the course, then its open sessions).
        course = Course.objects.select_for_update().get(pk=session.course_id)
        s = (
            Session.objects.select_for_update()
            .select_related("course", "course__case")
            .get(pk=session.pk)
        )
        if kind == "pre":
            f = facts(course)
            if _completes_first_step(course, s, decision):
                f = replace(f, status=rules.ACTIVE)  # its own first step suspended the course
            why_not = rules.may_start(f)
            if why_not:
                raise CourseError(why_not)
            if now < pre_checkin_opens_at(s):
                raise CourseError("the pre-session check-in opens on the day of the session")
        if now > s.link_expires_at:
            raise CourseError("this check-in link has expired: contact your clinician")
        try:
            status = rules.session_after(s.status, kind, decision.action)
        except rules.CourseRuleError as exc:
            raise CourseError(str(exc)) from exc
        body = decision.to_dict()
        stored = CheckIn.objects.create(
            course=course,
            session=s,
            kind=kind,
            action=decision.action,
            safety_level=decision.safety_level,
            answers=dict(answers) if isinstance(answers, dict) else {},
            decision=body,
            language=language,
            submitted_at=now,
            engine_version=__version__,
            knowledge_version=k.version,
            policy_version=k.policy.version,
        )
        s.status = status
        if status == rules.HELD:
            s.held_at = now
        if status == rules.DONE:
            s.done_at = now
            s.doses_taken = doses
        s.save()
        reasons = [r["rule"] for r in body["reasons"]]
        record(
            Action.CHECKIN_SUBMITTED,
            actor="patient",
            patient=course.case.public_id,
            object_type="session",
            object_id=s.public_id,
            detail={"kind": kind, "action": decision.action},
        )
        if decision.safety_level != "none":
            _suspend(course, actor="patient", detail={"session": s.number, "from": "checkin"})
            first_steps = _resolve_first_steps(now, session=s) if kind == "pre" else []
            if not _alerted_already(first_steps, decision.safety_level):
                raise_alert(course.case, decision.safety_level, Alert.Source.PRE, reasons, now)
        elif decision.action == "hold":
            # A reading in the crisis range needs the clinician urgently (FACTS §B6).
            level = Alert.Level.ACUTE if BP_CRISIS in reasons else Alert.Level.NON_ACUTE
            raise_alert(course.case, level, Alert.Source.PRE, reasons, now)
        elif decision.action == "emergency":
            raise_alert(course.case, Alert.Level.ACUTE, Alert.Source.POST, reasons, now)
        elif decision.action == "alert":
            raise_alert(course.case, Alert.Level.NON_ACUTE, Alert.Source.POST, reasons, now)
        if status == rules.DONE:
            _after_session(course, now)
            # More doses than prescribed → a dispensing alert (dispensing imports this module).
            from crossline.course.dispensing import flag_after_session

            flag_after_session(s, now)
        if decision.action == "emergency":
            _pause_for_report(course, rules.EMERGENCY, {"session": s.number})
    return stored


# The engine's rule for a positive safety answer, by the alert's source: what an unstored
# risky answer is reported under.
_SAFETY_RULE: dict[str, str] = {
    Alert.Source.PRE: PRE_SAFETY_RULE,
    Alert.Source.WEEKLY: WEEKLY_SAFETY_RULE,
}


def risk_reported_unsaved(
    course: Course,
    source: str,
    answers: dict[str, Any],
    now: datetime,
    *,
    session: Session | None = None,
    weekly: Weekly | None = None,
) -> Alert | None:
    """Answers that show suicide risk reached a course page that could not store them (its link
    had run out, another tab had sent it, the course had changed). They are not a check-in —
    they were never accepted — but the program must still learn of them: the same response as
    a stored positive answer, the course suspended until a documented risk assessment and a
    safety alert at the answers' level (engine's `safety_level`; acuity unknown counts as
    acute). A person sending again does not page the roster again: an open safety alert from
    this source at the same level or a more urgent one covers it. Any other open alert — a
    held session, a routine weekly flag, a safety alert less urgent than this — does not. The
    safety answers themselves are kept on the alert (`Alert.unaccepted_answers`). The page's
    `session` or `weekly`: a first step of it still waiting for its ASQ step is answered by
    this report (the worker does not report it again)."""
    if safety_level(answers) == "none":
        return None
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        _resolve_first_steps(now, session=session, weekly=weekly)
        behind = {**_sitting_of(session, weekly), "from": "not_stored"}
        return _report_unstored(locked, source, answers, now, now, actor="patient", behind=behind)


def _report_unstored(
    course: Course,
    source: str,
    answers: dict[str, Any],
    sent_at: datetime,
    now: datetime,
    *,
    actor: str,
    behind: dict[str, Any],
    sitting: list[Alert] | None = None,
    **note: bool,
) -> Alert:
    """`risk_reported_unsaved`'s response, on a course the caller has locked: suspended, and
    the answers on a covering safety alert — this sitting's (`sitting`), else an open one from
    this source — or a new one, its deadline counted from when the answers were sent
    (`sent_at`: a first step's, minutes before the worker's sweep). `note` marks the entry
    kept; `actor` and `behind` (the session or weekly, where the answers came from) audit the
    suspension."""
    level, rule = safety_level(answers), _SAFETY_RULE[source]
    _suspend(course, actor=actor, detail=behind)
    open_alerts = Alert.objects.select_for_update().filter(
        case=course.case, source=source, acknowledged_at__isnull=True
    )
    candidates = [*(sitting or []), *open_alerts.order_by("-created_at")]
    covering = next(
        (a for a in candidates if rule in a.reasons and _URGENCY[a.level] >= _URGENCY[level]),
        None,
    )
    alert = covering or raise_alert(course.case, level, source, [rule], now, reported_at=sent_at)
    sent = {"at": sent_at.isoformat(), "answers": _safety_answers(answers), **note}
    alert.unaccepted_answers = [*(alert.unaccepted_answers or []), sent]
    alert.save(update_fields=["unaccepted_answers"])
    return alert


# --- a first step that showed risk, its ASQ step still to come -----------------------------------

# Program policy (citations.toml `policy.course_asq_step`): how long a check-in's first step
# with PHQ-9 item 9 above 0 waits for its ASQ step before the worker raises the safety alert on
# what is known — acute, the acuity unknown. The ASQ takes about 20 seconds (NIMH, FACTS §A4b):
# five minutes lets a person who is answering finish, so that the alert comes at the tier of
# their answers (FACTS §F2 ✎ 3), and a person who left waits no longer than that for the
# roster to be paged. The course is suspended from the first step on, whatever this value.
ASQ_STEP_GRACE = timedelta(minutes=5)


def first_step_at_risk(
    course: Course,
    answers: dict[str, Any],
    now: datetime,
    *,
    session: Session | None = None,
    weekly: Weekly | None = None,
) -> FirstStep | None:
    """A check-in's first step (of `session` or `weekly`) answered PHQ-9 item 9 above 0: its
    ASQ step is shown next, and the check-in is stored only when that is sent. The person may
    leave there, so the program acts now (FACTS §F2 ✎ 4): the course is suspended — no session
    may start until a clinician documents a risk assessment — and the safety answers sent are
    kept (a `FirstStep`), with its audit event, in one transaction. None when the answers show
    no risk once only well-formed values are kept."""
    kept = _safety_answers(answers)
    if safety_level(kept) == "none":
        return None
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        before = locked.status
        _suspend(
            locked, actor="patient", detail={**_sitting_of(session, weekly), "from": "first_step"}
        )
        step = FirstStep.objects.create(
            course=locked, session=session, weekly=weekly, answers=kept, sent_at=now
        )
        sitting = session or weekly
        assert sitting is not None, "a first step belongs to a session or a weekly"
        record(
            Action.CHECKIN_FIRST_STEP_AT_RISK,
            actor="patient",
            patient=locked.case.public_id,
            object_type="session" if session is not None else "weekly",
            object_id=sitting.public_id,
            detail={
                "kind": "pre" if session is not None else "weekly",
                "suspended": locked.status != before,  # False: it was suspended already
            },
        )
    return step


def _completes_first_step(course: Course, session: Session, decision: CheckinDecision) -> bool:
    """A pre-session check-in is the ASQ step of its own first step, which suspended the course
    a moment ago: it is stored although the course is suspended — as a hold, never a go-ahead
    (a safety answer holds the session), and the suspension stays."""
    return (
        course.status == rules.SUSPENDED
        and decision.action == "hold"
        and decision.safety_level != "none"
        and session.first_steps.filter(resolved_at__isnull=True).exists()
    )


def _resolve_first_steps(
    now: datetime, *, session: Session | None = None, weekly: Weekly | None = None
) -> list[FirstStep]:
    """The first steps of this session or weekly still waiting for their ASQ step, resolved now
    (the caller holds the course's lock, which the worker takes before reporting one)."""
    if session is not None:
        waiting = FirstStep.objects.filter(session=session)
    elif weekly is not None:
        waiting = FirstStep.objects.filter(weekly=weekly)
    else:
        return []
    steps = list(waiting.filter(resolved_at__isnull=True).select_related("alert"))
    FirstStep.objects.filter(pk__in=[step.pk for step in steps]).update(resolved_at=now)
    return steps


def _alerted_already(steps: list[FirstStep], level: str) -> bool:
    """The worker raised this sitting's safety alert while its ASQ step was late, at the level
    of what was known then (acute: the acuity unknown): a second alert for the same sitting is
    not raised when that one is at least as urgent as the check-in's level."""
    return any(s.alert is not None and _URGENCY[s.alert.level] >= _URGENCY[level] for s in steps)


def alert_left_first_steps(now: datetime, limit: int = 200) -> int:
    """The worker's minute sweep: each first step still waiting for its ASQ step
    `ASQ_STEP_GRACE` after it was sent is reported as `risk_reported_unsaved` reports answers —
    the course suspended, a safety alert at the level of the answers known (acute: the acuity
    unknown) unless an open one covers it, the answers kept on the alert. Each once, however
    many sweeps run at once (`_report_left`). Returns how many were reported."""
    waiting = FirstStep.objects.filter(
        resolved_at__isnull=True, alert__isnull=True, sent_at__lte=now - ASQ_STEP_GRACE
    )
    ids = list(waiting.order_by("sent_at").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if _report_left(pk, now))


def _report_left(pk: int, now: datetime) -> bool:
    """One first step reported, under its course's lock (the ASQ step and a risk assessment
    take it too): read again under the lock, it is reported only if still waiting."""
    with transaction.atomic():
        course_id = FirstStep.objects.values_list("course_id", flat=True).get(pk=pk)
        course = Course.objects.select_for_update().select_related("case").get(pk=course_id)
        step = (
            FirstStep.objects.select_for_update()
            .filter(pk=pk, resolved_at__isnull=True, alert__isnull=True)
            .first()
        )
        if step is None:
            return False  # its ASQ step came, a clinician assessed it, or another sweep had it
        source = Alert.Source.PRE if step.session_id is not None else Alert.Source.WEEKLY
        step.alert = _report_unstored(
            course,
            source,
            step.answers,
            step.sent_at,
            now,
            actor="worker",
            behind={**_sitting_of(step.session, step.weekly), "from": "first_step"},
            sitting=_sitting_alerts(step),
            left_at_asq=True,
        )
        step.save(update_fields=["alert"])
    return True


def _sitting_alerts(step: FirstStep) -> list[Alert]:
    """The alert an earlier first step of the same sitting (its first step sent again, from
    Back) was reported on: it covers this one, acknowledged or not — one alert per sitting."""
    same = {"session": step.session} if step.session_id else {"weekly": step.weekly}
    earlier = FirstStep.objects.filter(**same, alert__isnull=False).values_list("alert_id")
    return list(Alert.objects.select_for_update().filter(pk__in=earlier))


_URGENCY: dict[str, int] = {Alert.Level.ROUTINE: 0, Alert.Level.NON_ACUTE: 1, Alert.Level.ACUTE: 2}


def _safety_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Only the answers the knowledge base lists for these questions: a form's raw values
    (anything could have been posted) never reach the record."""
    k = current_knowledge()
    kept = {}
    for item_id, value in answers.items():
        item = k.items.get(item_id)
        if item is not None and value in {o.value for o in item.options}:
            kept[item_id] = value
    return kept


def _suspend(course: Course, *, actor: str, detail: dict[str, Any]) -> None:
    """A positive safety answer suspends an active or paused course until a clinician documents
    a risk assessment. A pause's reason is overwritten here ("safety") but not lost: every
    reason a pause waits for is in the records (`decision_owed`), and the assessment that lifts
    the suspension returns the course to that pause (`document_risk`).

    Audited `course.suspended` whichever path the answer came by — a stored check-in, a first
    step, answers a page could not store (only their alert would show otherwise, and nothing
    when an open alert covers them) — with the state it leaves (`was`, `was_reason`: the pause
    the suspension interrupts) and `detail` (the session or weekly, and which path). A course
    already suspended or stopped does not change: no event."""
    if course.status not in (rules.ACTIVE, rules.PAUSED):
        return
    was, was_reason = course.status, course.status_reason
    course.status, course.status_reason = rules.SUSPENDED, "safety"
    course.save(update_fields=["status", "status_reason", "updated_at"])
    record(
        Action.COURSE_SUSPENDED,
        actor=actor,
        patient=course.case.public_id,
        object_type="course",
        object_id=course.public_id,
        detail={"reason": "safety", "was": was, "was_reason": was_reason, **detail},
    )


def _sitting_of(session: Session | None, weekly: Weekly | None) -> dict[str, int]:
    """The session or weekly questionnaire an answer came from, by number, for an audit event
    (as `course.paused` names them); {} when a page named neither."""
    if session is not None:
        return {"session": session.number}
    if weekly is not None:
        return {"weekly": weekly.number}
    return {}


def _pause_for_report(course: Course, report: str, detail: dict[str, Any]) -> None:
    """A report that waits for the physician's decision — an after-session check's emergency,
    new bladder symptoms in a weekly check-in (`rules.REPORTS`) — pauses an active course until
    the physician decides (`rules.pause_after_report`), audited with what it came from
    (`detail`: the session's or the questionnaire's number). A pause for the re-evaluation
    point the same session reached (`_after_session`, which ran first and raised its routine
    alert), or for a less urgent report, is named for this one: one decision answers both. A
    suspension or a pause for high risk keeps its own reason; the course page lists the report
    beside it (`awaiting_decision`)."""
    status, reason = rules.pause_after_report(course.status, course.status_reason, report)
    if (status, reason) == (course.status, course.status_reason):
        return
    course.status, course.status_reason = status, reason
    course.save(update_fields=["status", "status_reason", "updated_at"])
    record(
        Action.COURSE_PAUSED,
        actor="patient",
        patient=course.case.public_id,
        object_type="course",
        object_id=course.public_id,
        detail={"reason": report, **detail},
    )


def awaiting_decision(course: Course) -> list[CheckIn]:
    """The check-ins with a report (`rules.REPORTS`: an after-session emergency, new bladder
    symptoms in a weekly one) which no physician's decision has answered since (none recorded
    after them), oldest first: each keeps the course from coming back to active without that
    decision, and the course page shows them beside it."""
    checks = course.checkins.filter(
        Q(kind=CheckIn.Kind.POST, action="emergency") | Q(kind=CheckIn.Kind.WEEKLY, action="alert")
    )
    latest = course.decisions.order_by("-decided_at").values_list("decided_at", flat=True).first()
    if latest is not None:
        checks = checks.filter(submitted_at__gt=latest)
    return [c for c in checks.select_related("session", "weekly") if report_of(c)]


def report_of(checkin: CheckIn) -> str:
    """The report a check-in made (`rules.REPORTS`), from its stored decision, or "" for none."""
    if checkin.kind == CheckIn.Kind.POST and checkin.action == "emergency":
        return rules.EMERGENCY
    reasons = {r["rule"] for r in checkin.decision.get("reasons", [])}
    if checkin.kind == CheckIn.Kind.WEEKLY and WEEKLY_BLADDER_RULE in reasons:
        return rules.BLADDER
    return ""


def decision_owed(course: Course) -> list[str]:
    """Why the physician's decision (continue, change or stop) is owed now (`rules.
    PAUSE_REASONS`; [] when none), read from the records rather than from the course's status
    and reason, which a suspension overwrites (`_suspend`):

    - each report no physician's decision has answered since (`awaiting_decision`);
    - a suicide risk documented high since the latest decision (`rules.RISK_HIGH`);
    - the block's planned sessions done (`rules.REEVALUATION`): only a decision opens the next
      block — also when the block ended while the course was suspended.

    Sound because each of these is stored before the pause it causes and only the physician's
    decision ends a pause (`decide`): whatever a course is paused for is in this list, so the
    assessment that lifts a suspension of a paused course returns it to paused
    (`rules.status_after_risk_assessment`), never to active with the decision still owed.
    Derived rather than remembered in a column at suspension, which would miss a decision that
    fell due during the suspension (the block's last session done then)."""
    owed = [report_of(c) for c in awaiting_decision(course)]
    if _high_risk_since_decision(course):
        owed.append(rules.RISK_HIGH)
    if rules.block_finished(facts(course)):
        owed.append(rules.REEVALUATION)
    return owed


def _high_risk_since_decision(course: Course) -> bool:
    """A risk assessment documented high after the physician's latest decision (or with none)."""
    high = course.risk_assessments.filter(risk=RiskAssessment.Risk.HIGH)
    latest = course.decisions.order_by("-decided_at").values_list("decided_at", flat=True).first()
    if latest is not None:
        high = high.filter(documented_at__gt=latest)
    return high.exists()


def _after_session(course: Course, now: datetime) -> None:
    status = rules.status_after_session(facts(course))
    if status != course.status:
        course.status = status
        course.status_reason = rules.REEVALUATION
        course.save(update_fields=["status", "status_reason", "updated_at"])
        raise_alert(
            course.case, Alert.Level.ROUTINE, Alert.Source.POST, ["course.reevaluation_due"], now
        )


def submit_weekly(weekly: Weekly, answers: object, language: str, now: datetime) -> CheckIn:
    k = current_knowledge()
    course = weekly.course
    has_plan = RecoveryPlan.objects.filter(course=course).exists()
    result = evaluate_weekly(k, answers, bladder=weekly.bladder, recovery=has_plan)
    with transaction.atomic():
        w = Weekly.objects.select_for_update().get(pk=weekly.pk)
        locked = Course.objects.select_for_update().select_related("case").get(pk=w.course_id)
        if w.status == Weekly.Status.DONE:
            raise CourseError("this questionnaire is in already")
        if now > w.link_expires_at:
            raise CourseError("this questionnaire link has expired: contact your clinician")
        body = result.to_dict(k)
        stored = CheckIn.objects.create(
            course=locked,
            weekly=w,
            kind=CheckIn.Kind.WEEKLY,
            action="alert" if result.reasons else "ok",
            safety_level=result.safety_level,
            answers=dict(result.answers),
            decision=body,
            language=language,
            submitted_at=now,
            engine_version=__version__,
            knowledge_version=k.version,
            policy_version=k.policy.version,
        )
        w.status, w.done_at = Weekly.Status.DONE, now
        w.save(update_fields=["status", "done_at"])
        record(
            Action.CHECKIN_SUBMITTED,
            actor="patient",
            patient=locked.case.public_id,
            object_type="weekly",
            object_id=w.public_id,
            detail={"kind": "weekly", "number": w.number},
        )
        reasons = list(result.reasons)
        flags = outcome(locked, k)["phq9"]
        if flags["worsening"]:
            reasons.append("weekly.worsening")
        if flags["non_response"]:
            reasons.append("weekly.non_response")
        if reasons != list(result.reasons):
            body["reasons"] = reasons_with_citations(k, reasons)
            stored.action = "alert"
            stored.decision = body
            stored.save(update_fields=["action", "decision"])
        if result.safety_level != "none":
            _suspend(locked, actor="patient", detail={"weekly": w.number, "from": "checkin"})
            first_steps = _resolve_first_steps(now, weekly=w)
            if not _alerted_already(first_steps, result.safety_level):
                raise_alert(locked.case, result.safety_level, Alert.Source.WEEKLY, reasons, now)
        elif reasons:
            raise_alert(locked.case, Alert.Level.ROUTINE, Alert.Source.WEEKLY, reasons, now)
        if WEEKLY_BLADDER_RULE in reasons:
            _pause_for_report(locked, rules.BLADDER, {"weekly": w.number})
    return stored


# --- the clinician's side ---------------------------------------------------------------------


def clear_hold(
    session: Session,
    *,
    proceed: bool,
    note: str,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> Session:
    """A clinician clears a held session (it may go ahead) or cancels it, with a note. The
    alert the hold raised is answered by this and acknowledged with it (`_hold_alerts`)."""
    if not note.strip():
        raise CourseError("note: say what was checked and decided")
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=session.course_id)
        s = Session.objects.select_for_update().select_related("course__case").get(pk=session.pk)
        if proceed:
            why_not = rules.may_go_ahead(facts(course))
            if why_not:
                raise CourseError(why_not)
        try:
            s.status = rules.session_after(s.status, "clear" if proceed else "cancel")
        except rules.CourseRuleError as exc:
            raise CourseError(str(exc)) from exc
        held_at = s.held_at
        s.cleared_at, s.cleared_by, s.clear_note = now, user, {"note": note.strip()}
        s.save()
        record(
            Action.SESSION_CLEARED,
            request=request,
            actor=user,
            patient=s.course.case.public_id,
            object_type="session",
            object_id=s.public_id,
            detail={"proceed": proceed},
        )
        acknowledge_answered(
            _hold_alerts(s.course.case, held_at),
            by=Action.SESSION_CLEARED,
            user=user,
            request=request,
            now=now,
        )
    return s


def _hold_alerts(case: Case, held_at: datetime | None) -> list[Alert]:
    """The open alert a session's hold raised (its pre check-in's, created the moment it was
    held), which clearing or cancelling the session answers. Not a safety alert (a positive
    suicide-risk answer): that one asks for a documented risk assessment, which clearing a
    hold is not."""
    if held_at is None:
        return []
    raised = Alert.objects.filter(
        case=case, source=Alert.Source.PRE, created_at=held_at, acknowledged_at__isnull=True
    )
    return [a for a in raised if not a.is_safety]


def mark_done(
    session: Session, *, user: Any, request: HttpRequest | None, now: datetime
) -> Session:
    """A clinician marks a session done (e.g. the after-check was taken by phone). A held
    session cannot be marked done until a clinician clears it."""
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=session.course_id)
        s = Session.objects.select_for_update().select_related("course__case").get(pk=session.pk)
        try:
            s.status = rules.session_after(s.status, "done")
        except rules.CourseRuleError as exc:
            raise CourseError(str(exc)) from exc
        s.done_at, s.done_by = now, user
        s.save()
        record(
            Action.SESSION_DONE,
            request=request,
            actor=user,
            patient=course.case.public_id,
            object_type="session",
            object_id=s.public_id,
        )
        _after_session(course, now)
    return s


BP_CRISIS = "checkin.pre.bp_crisis"

NEW_SAFETY_ANSWER = (
    "a new answer showing suicide risk came in after this page was opened (shown on the page "
    "now): read it, then document the assessment"
)


def safety_answers(course: Course) -> int:
    """How many answers showing suicide risk the course has received: its check-ins with a
    safety level, those its pages could not store (kept on their alerts), and the first steps
    whose answers are not on an alert (the worker moves a left one's there: counted once). A
    risk assessment carries the count its page showed (`document_risk(seen=…)`)."""
    stored = course.checkins.exclude(safety_level="none").count()
    alerts = Alert.objects.filter(
        case_id=course.case_id, source__in=(Alert.Source.PRE, Alert.Source.WEEKLY)
    ).only("unaccepted_answers")
    first_steps = course.first_steps.filter(alert__isnull=True).count()
    return stored + first_steps + sum(len(a.unaccepted_answers or []) for a in alerts)


def document_risk(
    course: Course,
    *,
    risk: str,
    note: str,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
    seen: int | None = None,
) -> RiskAssessment:
    """A clinician's documented suicide-risk assessment. It lifts a safety suspension — back to
    active, or to paused while the physician's decision is owed (`decision_owed`: the pause a
    suspension interrupted, a report, the block's end) — and pauses a suspended or paused
    course when the risk is high; a pause's reason is kept true
    (`rules.status_after_risk_assessment`). `seen`: how many answers showing risk the
    clinician's page showed (`safety_answers`). When the patient sent another since — the
    course locked, so a check-in in flight lands first — the assessment was made without it and
    is refused (nothing stored): it must not lift the suspension that answer put on."""
    if risk not in RiskAssessment.Risk.values:
        raise CourseError("risk: choose low, moderate or high")
    if not note.strip():
        raise CourseError("note: document the assessment")
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        if seen is not None and safety_answers(locked) > seen:
            raise CourseError(NEW_SAFETY_ANSWER)
        made = RiskAssessment.objects.create(
            course=locked,
            risk=risk,
            note={"note": note.strip()},
            documented_by=user,
            documented_at=now,
        )
        status, reason = rules.status_after_risk_assessment(
            locked.status, locked.status_reason, risk, decision_owed(locked)
        )
        # Every first step still waiting for its ASQ step was on the page (`seen`: listed, or
        # on its alert): assessed with it, the worker does not report it later. An ASQ step
        # sent after this is a new check-in, stored and alerted as any other.
        locked.first_steps.filter(resolved_at__isnull=True).update(resolved_at=now)
        cancelled = 0
        if (status, reason) != (locked.status, locked.status_reason):
            locked.status, locked.status_reason = status, reason
            locked.save(update_fields=["status", "status_reason", "updated_at"])
            if status == rules.ACTIVE:
                cancelled = _cancel_stale_sessions(locked, user, request, now)
        record(
            Action.RISK_DOCUMENTED,
            request=request,
            actor=user,
            patient=locked.case.public_id,
            object_type="course",
            object_id=locked.public_id,
            detail={"risk": risk, "sessions_cancelled": cancelled},
        )
        # The assessment answers the suicide-risk alerts still open (every answer behind them
        # was on the page: `seen` above): left open they would keep paging the roster.
        open_alerts = Alert.objects.filter(case=locked.case, acknowledged_at__isnull=True)
        acknowledge_answered(
            [a for a in open_alerts if a.is_safety],
            by=Action.RISK_DOCUMENTED,
            user=user,
            request=request,
            now=now,
        )
    return made


def latest_risk(course: Course) -> str:
    """The level of the course's latest documented suicide-risk assessment ("" when none)."""
    latest = course.risk_assessments.order_by("-documented_at", "-pk").first()
    return latest.risk if latest is not None else ""


STALE_NOTE = (
    "Cancelled when the course became active again: its pre-session check-in was answered "
    "before the course was paused or suspended. The next session asks for a new check-in."
)


STOPPED_NOTE = "Cancelled: the physician stopped the course."


def _cancel_stale_sessions(
    course: Course, user: Any, request: HttpRequest | None, now: datetime
) -> int:
    """The course is active again: the sessions whose go-ahead came from a check-in answered
    before the pause are cancelled (`rules.stale_after_pause`), so no link says "go ahead" on
    answers from before. Returns how many."""
    open_sessions = course.sessions.select_for_update().exclude(status__in=rules.FINISHED)
    stale = [s for s in open_sessions if rules.stale_after_pause(s.status)]
    return _cancel_sessions(
        course, stale, STALE_NOTE, {"checkin_before_pause": True}, user, request, now
    )


def _cancel_sessions(
    course: Course,
    sessions: list[Session],
    note: str,
    detail: dict[str, Any],
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> int:
    """Cancel each session with its note and audit event; a held one's hold alert is answered
    by it and acknowledged (`_hold_alerts`), as when a clinician cancels it by hand."""
    for s in sessions:
        held_at = s.held_at if s.status == rules.HELD else None
        s.status = rules.session_after(s.status, "cancel")
        s.cleared_at, s.cleared_by, s.clear_note = now, user, {"note": note}
        s.save(update_fields=["status", "cleared_at", "cleared_by", "clear_note"])
        record(
            Action.SESSION_CLEARED,
            request=request,
            actor=user,
            patient=course.case.public_id,
            object_type="session",
            object_id=s.public_id,
            detail={"proceed": False, **detail},
        )
        acknowledge_answered(
            _hold_alerts(course.case, held_at),
            by=Action.SESSION_CLEARED,
            user=user,
            request=request,
            now=now,
        )
    return len(sessions)


DECISION_NOT_PAUSED = (
    "continue or change is recorded when the course is paused for the physician's decision "
    "(the re-evaluation point, a report from the patient, a documented high risk); stop may be "
    "recorded at any time"
)


def decide(
    course: Course,
    *,
    decision: str,
    sessions_added: int,
    note: str,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> CourseDecision:
    """The physician's decision (continue / stop / change) on a course paused for it: at the
    re-evaluation point, after a report or a documented high risk (`rules.PAUSE_REASONS`).
    Continue and change open a new block of at most the program cap. Stop ends the course, and
    may be decided at any time (an adverse event need not wait for a pause): the sessions still
    open are cancelled."""
    p = policy()
    if not note.strip():
        raise CourseError("note: record the reasons for the decision")
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        if locked.status == rules.STOPPED:
            raise CourseError("the course is stopped already")
        if locked.status != rules.PAUSED and decision != "stop":
            raise CourseError(DECISION_NOT_PAUSED)
        try:
            status = rules.status_after_decision(decision, latest_risk(locked))
        except rules.CourseRuleError as exc:
            raise CourseError(f"decision: {exc}") from exc
        if status == rules.ACTIVE and not 1 <= sessions_added <= p.sessions_before_reevaluation:
            raise CourseError(
                f"sessions_added: from 1 to the program cap of {p.sessions_before_reevaluation}"
            )
        made = CourseDecision.objects.create(
            course=locked,
            block=locked.block,
            decision=decision,
            sessions_added=sessions_added if status == rules.ACTIVE else 0,
            note={"note": note.strip()},
            decided_by=user,
            decided_at=now,
        )
        locked.status, locked.status_reason = status, ""
        cancelled = 0
        if status == rules.STOPPED:
            still_open = list(
                locked.sessions.select_for_update().exclude(status__in=rules.FINISHED)
            )
            cancelled = _cancel_sessions(
                locked, still_open, STOPPED_NOTE, {"course_stopped": True}, user, request, now
            )
        if status == rules.ACTIVE:
            cancelled = _cancel_stale_sessions(locked, user, request, now)
            locked.block += 1
            locked.sessions_planned = sessions_added
            locked.reevaluation_after = sessions_added
            weeks = math.ceil(sessions_added / locked.sessions_per_week)
            # The block starts today where the sessions take place, as a plan's start does
            # (`check_plan`): the UTC date is tomorrow every evening in the Americas.
            start = local_today(now, locked.time_zone)
            locked.induction_end = start + timedelta(weeks=weeks)
            last = locked.weeklies.order_by("-number").first()
            after = max(
                start, (last.due_on + timedelta(days=p.weekly_every_days)) if last else start
            )
            add_weeklies(locked, after, weeks, first_number=(last.number + 1) if last else 0, p=p)
        locked.save()
        record(
            Action.COURSE_DECIDED,
            request=request,
            actor=user,
            patient=locked.case.public_id,
            object_type="course",
            object_id=locked.public_id,
            detail={
                "decision": decision,
                "sessions_added": made.sessions_added,
                "sessions_cancelled": cancelled,
            },
        )
    return made
