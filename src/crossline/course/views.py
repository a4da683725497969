"""Staff pages of the treatment course: the physician's plan and the course page with its actions.

Every change goes through `crossline.course.services` (one transaction, audit, alerts); these
views only validate forms, call the service, and show its refusal naming the field. The course
page shows PHI (the prescription, check-in answers, notes), so every view of it is audited.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods, require_POST

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role, has_role
from crossline.audit import Action, record
from crossline.care.models import Alert
from crossline.clinic.models import Case
from crossline.course import services
from crossline.course.charts import course_charts
from crossline.course.forms import ClearForm, DecisionForm, PlanForm, RiskForm, ScheduleForm
from crossline.course.models import CheckIn, Course, Session
from crossline.engine import course as rules
from crossline.engine.checkin import reason_entry
from crossline.engine.errors import InvalidInput
from crossline.engine.knowledge import Knowledge
from crossline.knowledge import load
from crossline.visits.models import Visit
from crossline.visits.zones import zone_for_state, zone_label

CLINICAL = (Role.INTAKE, Role.PHYSICIAN)
STATUS_WHY = {
    "reevaluation": "paused for the physician's re-evaluation decision",
    "risk_high": "paused: a documented high suicide risk keeps home sessions off until the "
    "physician decides",
    "risk_reassessed": "paused for the physician's decision after a documented high suicide "
    "risk (the latest assessment is not high): no session may start until the physician decides",
    "emergency": "paused after an emergency reported in an after-session check: no session "
    "may start until the physician decides",
    "bladder": "paused after new or worse bladder or urinary symptoms reported in a weekly "
    "check-in (FACTS §B4: stop if new lower urinary tract symptoms): no session may start until "
    "the physician decides",
    "safety": "suspended for safety until a clinician documents a risk assessment",
}


# --- knowledge for the page ---------------------------------------------------------------------


def rule_summary(k: Knowledge, rule: str) -> str:
    """The plain English summary of a rule id (checkin.toml), or "" when unknown."""
    return str(reason_entry(k, rule).get("summary", {}).get("en", ""))


def rule_citations(k: Knowledge, rule: str) -> list[str]:
    return list(reason_entry(k, rule).get("citations", []))


def sources(k: Knowledge, ids: list[str]) -> list[dict[str, str]]:
    return [{"id": c, "text": k.citations[c].formatted() if c in k.citations else ""} for c in ids]


def reason_rows(k: Knowledge, reasons: list[Any]) -> list[dict[str, Any]]:
    out = []
    for r in reasons:
        rule = r["rule"] if isinstance(r, dict) else str(r)
        cites = list(r.get("citations", [])) if isinstance(r, dict) else []
        out.append(
            {
                "rule": rule,
                "summary": rule_summary(k, rule),
                "sources": sources(k, cites or rule_citations(k, rule)),
            }
        )
    return out


def rules_rows(k: Knowledge, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    cites = snapshot["citations"]
    systolic, diastolic = snapshot["bp_hold_above"]
    return [
        {
            "rule": f"Blood pressure above {systolic}/{diastolic} mmHg before a session: hold",
            "sources": sources(k, cites["bp_hold_above"]),
        },
        {
            "rule": f"Pulse above {snapshot['pulse_hold_above']} per minute before a session: hold",
            "sources": sources(k, cites["pulse_hold_above"]),
        },
        {
            "rule": f"Fasting: no food for {snapshot['fasting_food_hours']} hours and no liquids "
            f"for {snapshot['fasting_liquid_minutes']} minutes before a session",
            "sources": sources(k, cites["fasting"]),
        },
    ]


# --- planning -----------------------------------------------------------------------------------


def _case(public_id: uuid.UUID) -> Case:
    case = Case.objects.select_related("assessment").filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case


def _result_token(case: Case) -> str | None:
    """The assessment's private result link, as the visits stored it (encrypted), if any."""
    visit = Visit.objects.filter(case=case).exclude(result_token=None).order_by("-pk").first()
    token = visit.result_token if visit is not None else None
    return token if isinstance(token, str) and token else None


def _field_error(form: forms.Form, message: str) -> None:
    """A service's "field: message" names a field of the form; otherwise a form-wide error."""
    field, sep, rest = message.partition(": ")
    aliases = {"sessions": "sessions_planned"}
    name = aliases.get(field, field)
    if sep and name in form.fields:
        form.add_error(name, rest)
    else:
        form.add_error(None, message)


def _describe_errors(form: forms.Form) -> None:
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["aria-describedby"] = f"{form[name].auto_id}_error"
            form.fields[name].widget.attrs["aria-invalid"] = "true"


@role_required(Role.PHYSICIAN)
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        case = _case(public_id)
        existing = Course.objects.filter(case=case).first()
        if existing is not None or not services.approved(case):
            return render(
                request,
                "course/staff_refused.html",
                {"case": case, "course": existing},
                status=409,
            )
        k = load()
        cap = services.policy(k).sessions_before_reevaluation
        initial = {
            "sessions_planned": cap,
            "time_zone": zone_for_state(case.state),
            "start_date": timezone.localdate(),
        }
        form = PlanForm(request.POST or None, cap=cap, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                d = form.cleaned_data
                try:
                    course = services.plan_course(
                        case,
                        plan=form.plan(),
                        start_date=d["start_date"],
                        sessions_planned=d["sessions_planned"],
                        sessions_per_week=d["sessions_per_week"],
                        time_zone=d["time_zone"],
                        language=case.assessment.language,
                        result_token=_result_token(case),
                        user=request.user,
                        request=request,
                        now=timezone.now(),
                    )
                except services.CourseError as exc:
                    _field_error(form, str(exc))
                else:
                    messages.success(request, "Course planned.")
                    return redirect("course:course", public_id=course.public_id)
            status = 422
            _describe_errors(form)
        cleaned = form.cleaned_data if form.is_bound else {}
        sessions = cleaned.get("sessions_planned") or cap
        per_week = cleaned.get("sessions_per_week")  # none preselected: the physician's choice
        start = cleaned.get("start_date") or initial["start_date"]
        return render(
            request,
            "course/staff_plan.html",
            {
                "case": case,
                "form": form,
                "cap": cap,
                "rules": rules_rows(k, services.rules_in_force(k)),
                "weeks": math.ceil(sessions / per_week) if per_week else None,
                "sessions": sessions,
                "per_week": per_week,
                "reevaluation_on": induction_end(start, sessions, per_week) if per_week else None,
                "errors": _error_list(form),
            },
            status=status,
        )


def _error_list(form: forms.Form) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for name, ms in form.errors.items():
        label = str(form.fields[name].label) if name in form.fields else "Form"
        target = form[name].auto_id if name in form.fields else ""
        out.extend({"label": label, "message": str(m), "target": target} for m in ms)
    return out


def induction_end(start: Any, sessions: int, per_week: int) -> Any:
    """The planned re-evaluation point: start + ceil(sessions / per week) weeks."""
    return start + timedelta(weeks=math.ceil(sessions / per_week))


# --- the course page ----------------------------------------------------------------------------


def _course(public_id: uuid.UUID) -> Course:
    course = Course.objects.select_related("case", "planned_by").filter(public_id=public_id).first()
    if course is None:
        raise Http404
    return course


def _session(course: Course, session_id: uuid.UUID) -> Session:
    session = Session.objects.filter(course=course, public_id=session_id).first()
    if session is None:
        raise Http404
    return session


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _checkin_row(k: Knowledge, c: CheckIn) -> dict[str, Any]:
    return {
        "checkin": c,
        "answers": sorted(c.answers.items()),
        "reasons": reason_rows(k, c.decision.get("reasons", [])),
        "scores": c.decision.get("scores"),
    }


def _awaiting_rows(k: Knowledge, course: Course) -> list[dict[str, Any]]:
    """The reports that wait for the physician's decision (an emergency after a session, new
    bladder symptoms in a weekly check-in), each with its check-in's reasons: why the course is
    paused (or will pause once a suspension is lifted), on the page where the physician
    decides. Only while paused or suspended: a stopped course needs no decision, and an active
    one with a report and no decision after it can only be one from before reports paused
    courses, of which the box's "no session may start" would not be true."""
    if course.status not in (rules.PAUSED, rules.SUSPENDED):
        return []
    return [
        _checkin_row(k, c) | {"report": services.report_of(c)}
        for c in services.awaiting_decision(course)
    ]


def _session_rows(k: Knowledge, course: Course) -> list[dict[str, Any]]:
    rows = []
    sessions = course.sessions.select_related("cleared_by", "done_by").prefetch_related("checkins")
    for s in sessions:
        by_kind = {c.kind: c for c in s.checkins.all()}
        pre, post = by_kind.get("pre"), by_kind.get("post")
        rows.append(
            {
                "session": s,
                "pre": pre,
                "post": post,
                "hold_reasons": reason_rows(k, pre.decision.get("reasons", []))
                if pre is not None and pre.action == "hold"
                else [],
                "cleared_by": _name(s.cleared_by),
                "clear_note": (s.clear_note or {}).get("note", ""),
                "held": s.status == rules.HELD,
                "may_mark_done": s.status == rules.READY,
            }
        )
    return rows


def _page(
    request: HttpRequest,
    course: Course,
    *,
    bound: dict[str, forms.Form] | None = None,
    clear_session: Session | None = None,
    status: int = 200,
) -> HttpResponse:
    k = load()
    cap = services.policy(k).sessions_before_reevaluation
    facts = services.facts(course)
    bound = bound or {}
    for form in bound.values():
        _describe_errors(form)
    consent = course.consents.order_by("-signed_at").first()
    checkins = list(course.checkins.select_related("session", "weekly"))
    # Each weekly questionnaire's answers from the check-ins already read: one query for the
    # course, however many weeks its blocks add.
    by_weekly = {c.weekly_id: c for c in checkins if c.weekly_id is not None}
    weeklies = []
    for w in course.weeklies.all():
        checkin = by_weekly.get(w.pk)
        weeklies.append(
            {
                "weekly": w,
                "scores": checkin.decision.get("scores") if checkin else None,
                "reasons": reason_rows(k, checkin.decision.get("reasons", [])) if checkin else [],
            }
        )
    record(
        Action.COURSE_VIEWED,
        request=request,
        patient=course.case.public_id,
        object_type="course",
        object_id=course.public_id,
    )
    # "override": would anything but a missing after-check refuse it? (the form asks for the reason)
    why_not_schedule = rules.may_schedule(facts, "override")
    context = {
        "course": course,
        "case": course.case,
        "zone": zone_label(course.time_zone),
        "why": STATUS_WHY.get(course.status_reason, "") if course.status != rules.ACTIVE else "",
        "awaiting": _awaiting_rows(k, course),
        "plan": course.plan,
        "planned_by": _name(course.planned_by),
        "rules": rules_rows(k, course.rules_snapshot),
        "consent": consent,
        "consent_current": facts.consent_signed,
        "consent_version": services.current_consent().version,
        "sessions": _session_rows(k, course),
        "checkins": [_checkin_row(k, c) for c in checkins],
        # A first step with item 9 above 0 whose ASQ step has not come (and is not yet on an
        # alert): counted in `safety_seen`, so shown here.
        "first_steps": course.first_steps.filter(
            resolved_at__isnull=True, alert__isnull=True
        ).select_related("session", "weekly"),
        "weeklies": weeklies,
        "alerts": [
            {"alert": a, "reasons": reason_rows(k, list(a.reasons))}
            for a in Alert.objects.filter(case=course.case).order_by("-created_at")
        ],
        "risks": [
            {"r": r, "by": _name(r.documented_by), "note": r.note.get("note", "")}
            for r in course.risk_assessments.select_related("documented_by").order_by(
                "documented_at"
            )
        ],
        "decisions": [
            {"d": d, "by": _name(d.decided_by), "note": d.note.get("note", "")}
            for d in course.decisions.select_related("decided_by").order_by("decided_at")
        ],
        "may_schedule": why_not_schedule is None,
        "why_not_schedule": why_not_schedule,
        "needs_override": not facts.previous_after_check_in,
        "physician": has_role(request.user, Role.PHYSICIAN),
        "paused": course.status == rules.PAUSED,
        "suspended": course.status == rules.SUSPENDED,
        # Paused for a high risk: continue and change wait for a new assessment (on this page).
        "paused_for_high_risk": course.status == rules.PAUSED
        and course.status_reason == rules.RISK_HIGH,
        "paused_after_assessment": _paused_after_assessment(course),
        "schedule_form": bound.get("schedule") or ScheduleForm(zone=course.time_zone),
        "clear_form": bound.get("clear") or ClearForm(auto_id="id_clear_%s"),
        "clear_session": clear_session,
        "risk_form": bound.get("risk") or RiskForm(auto_id="id_risk_%s"),
        # The answers showing risk this page shows, sent back with the risk assessment (a
        # form shown again carries the count now: the page shows them all).
        "safety_seen": services.safety_answers(course),
        "asq_step_grace_minutes": int(services.ASQ_STEP_GRACE.total_seconds() // 60),
        "decision_form": bound.get("decision") or DecisionForm(cap=cap, auto_id="id_decision_%s"),
        "errors": [
            {**e, "form": key}
            for key, form in bound.items()
            if isinstance(form, forms.Form)
            for e in _error_list(form)
        ],
        "cap": cap,
        "charts": course_charts(
            k, services.measures(course), course.induction_end, "en", simple=False
        ),
        "outcome": services.outcome(course, k),
    }
    return render(request, "course/staff_course.html", context, status=status)


def _paused_after_assessment(course: Course) -> str:
    """Why a suspended course would stay paused after a low or moderate risk assessment (the
    physician's decision still owed: `services.decision_owed`), "" when it would be active
    again: the clinician documenting it reads that first."""
    if course.status != rules.SUSPENDED:
        return ""
    status, reason = rules.status_after_risk_assessment(
        course.status, course.status_reason, "low", services.decision_owed(course)
    )
    return STATUS_WHY.get(reason, "") if status == rules.PAUSED else ""


@role_required(*CLINICAL)
@require_http_methods(["GET"])
def course_page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        return _page(request, _course(public_id))


def _refused(
    request: HttpRequest,
    course: Course,
    key: str,
    form: forms.Form,
    exc: Exception,
    clear_session: Session | None = None,
) -> HttpResponse:
    if isinstance(exc, InvalidInput):
        for e in exc.errors:
            _field_error(form, f"{e.field}: {e.message}")
    else:
        _field_error(form, str(exc))
    return _page(request, course, bound={key: form}, clear_session=clear_session, status=422)


@role_required(*CLINICAL)
@require_POST
def schedule(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        course = _course(public_id)
        now = timezone.now()
        form = ScheduleForm(request.POST, zone=course.time_zone, now=now)
        if not form.is_valid():
            return _page(request, course, bound={"schedule": form}, status=422)
        try:
            session, token = services.schedule_session(
                course,
                form.when(),
                override_reason=form.cleaned_data["override_reason"],
                user=request.user,
                request=request,
                now=now,
            )
        except services.CourseError as exc:
            return _refused(request, course, "schedule", form, exc)
        # The private link is shown once, on this response only (never in a cookie or a log).
        return render(
            request,
            "course/staff_scheduled.html",
            {
                "course": course,
                "session": session,
                "zone": zone_label(course.time_zone),
                "link": request.build_absolute_uri(f"/s/{token}/"),
            },
        )


@role_required(*CLINICAL)
@require_POST
def clear(request: HttpRequest, public_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        course = _course(public_id)
        session = _session(course, session_id)
        form = ClearForm(request.POST, auto_id="id_clear_%s")
        if not form.is_valid():
            return _page(request, course, bound={"clear": form}, clear_session=session, status=422)
        proceed = form.cleaned_data["outcome"] == "proceed"
        try:
            services.clear_hold(
                session,
                proceed=proceed,
                note=form.cleaned_data["note"],
                user=request.user,
                request=request,
                now=timezone.now(),
            )
        except services.CourseError as exc:
            return _refused(request, course, "clear", form, exc, clear_session=session)
        done = "cleared: it may go ahead" if proceed else "cancelled"
        messages.success(request, f"Session {session.number} {done}.")
        return redirect("course:course", public_id=course.public_id)


@role_required(*CLINICAL)
@require_POST
def done(request: HttpRequest, public_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        course = _course(public_id)
        session = _session(course, session_id)
        try:
            services.mark_done(session, user=request.user, request=request, now=timezone.now())
        except services.CourseError as exc:
            form = forms.Form(request.POST)
            form.is_valid()
            form.add_error(None, f"Session {session.number}: {exc}")
            return _page(request, course, bound={"done": form}, status=422)
        messages.success(request, f"Session {session.number} marked done.")
        return redirect("course:course", public_id=course.public_id)


@role_required(*CLINICAL)
@require_POST
def risk(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        course = _course(public_id)
        form = RiskForm(request.POST, auto_id="id_risk_%s")
        if not form.is_valid():
            return _page(request, course, bound={"risk": form}, status=422)
        try:
            services.document_risk(
                course,
                risk=form.cleaned_data["risk"],
                note=form.cleaned_data["note"],
                user=request.user,
                request=request,
                now=timezone.now(),
                seen=form.cleaned_data["seen"],
            )
        except services.CourseError as exc:
            return _refused(request, course, "risk", form, exc)
        messages.success(request, "Risk assessment documented.")
        return redirect("course:course", public_id=course.public_id)


@role_required(Role.PHYSICIAN)
@require_POST
def decision(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    with translation.override("en"):
        course = _course(public_id)
        cap = services.policy().sessions_before_reevaluation
        form = DecisionForm(request.POST, cap=cap, auto_id="id_decision_%s")
        if not form.is_valid():
            return _page(request, course, bound={"decision": form}, status=422)
        try:
            services.decide(
                course,
                decision=form.cleaned_data["decision"],
                sessions_added=form.cleaned_data["sessions_added"] or 0,
                note=form.cleaned_data["note"],
                user=request.user,
                request=request,
                now=timezone.now(),
            )
        except services.CourseError as exc:
            return _refused(request, course, "decision", form, exc)
        messages.success(request, f"Decision recorded: {form.cleaned_data['decision']}.")
        return redirect("course:course", public_id=course.public_id)
