"""The patient's course pages, reached through private links. No account, no JavaScript.

`/s/<token>/` one session: the treatment consent (until signed), the pre-session check-in, the
after-session check; `/w/<token>/` one weekly questionnaire; `/r/<token>/course/` the course
overview under the person's private result link. Every state change goes through
`crossline.course.services`; every page that shows the person's course is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crossline.audit import Action, record
from crossline.care.models import Alert
from crossline.clinic.models import Case
from crossline.course import services
from crossline.course.charts import course_charts
from crossline.course.models import CheckIn, Course, RecoveryPlan, Session, Weekly
from crossline.course.patient_forms import ConsentForm, EngineForm, PostForm, PreForm, WeeklyForm
from crossline.engine import course as rules
from crossline.engine.checkin import reason_entry
from crossline.engine.errors import InvalidInput
from crossline.engine.instruments import shows_risk
from crossline.engine.knowledge import Knowledge
from crossline.engine.weekly import GAD7, PHQ9
from crossline.intake.models import Assessment
from crossline.program.policy import current_knowledge
from crossline.visits.zones import zone_label
from crossline.web import (
    back_not_saved,
    keep_crisis_resources,
    not_saved,
    posted_risk,
    posted_safety_answers,
)
from crossline.web import patient_language as _language

RECOVERY_PARTS = ("therapy", "rest", "boundaries", "support")


def _viewed(request: HttpRequest, course: Course, page: str) -> None:
    record(
        Action.CHECKIN_VIEWED_BY_PATIENT,
        request=request,
        actor="patient",
        patient=course.case.public_id,
        object_type="course",
        object_id=course.public_id,
        detail={"page": page},
    )


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = context | {"not_saved": not_saved(request)}  # back after a refused submission
    return render(request, f"course/{template}", context, status=status)


def _keep_crisis_help_if_at_risk(request: HttpRequest) -> None:
    """Answers posted to a check-in that show suicide risk (PHQ-9 item 9 above 0, an ASQ yes or
    refused) bring the crisis resources at once, before anything is stored: on the ASQ step
    that item 9 opens, on a form shown again with errors, and on every page after it in this
    browser (PRODUCT.md step 6; FACTS §F2 ✎ 1: "do not gate this behind submission")."""
    if request.method == "POST" and posted_risk(request.POST):
        keep_crisis_resources(request)


# --- /s/<token>/ ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def session(request: HttpRequest, token: str) -> HttpResponse:
    s = services.session_by_token(token)
    if s is None:
        raise Http404
    course = s.course
    lang = _language(request, course.language)
    _keep_crisis_help_if_at_risk(request)
    k = current_knowledge()
    base: dict[str, Any] = {
        "session": s,
        "course": course,
        "token": token,
        "at_risk": _suspended(course),
    }
    page = _session_page(s, course)
    if page == "wait" and _first_step_continues(request, s):
        page = "pre"
    if _sent_from_another_page(request, page):
        return _not_saved(request, _session_link(token, s))
    if page == "consent":
        return _consent(request, s, lang, base)
    if page == "pre":
        return _pre(request, s, k, lang, base)
    if page == "post":
        return _post(request, s, k, lang, base)
    _viewed(request, course, f"session.{page}")
    if page == "expired":
        return _page(request, "patient_expired.html", base)
    if page == "wait":
        # Suspended (a positive safety answer), paused or stopped: no pre check-in, no dose.
        return _page(request, "patient_wait.html", base)
    if page == "not_yet":
        opens = {"opens_at": services.pre_checkin_opens_at(s), "zone": zone_label(course.time_zone)}
        return _page(request, "patient_not_yet.html", base | opens)
    if page == rules.HELD:
        return _page(request, "patient_hold.html", base | _hold(k, s, lang))
    if page == rules.DONE:
        return _page(request, "patient_done.html", base | _done(k, s, lang))
    return _page(request, "patient_closed.html", base)


def _suspended(course: Course) -> bool:
    """Suspended: only ever for a positive suicide-risk answer (`services._suspend`), so its
    pages show the crisis resources from the stored state, in any browser — as the hold and the
    weekly pages do from the stored answer — until a clinician lifts it."""
    return course.status == rules.SUSPENDED


def _session_link(token: str, s: Session) -> _Link:
    return _Link("course_patient:session", token, s.course, Alert.Source.PRE, session=s)


def _first_step_continues(request: HttpRequest, s: Session) -> bool:
    """The pre check-in's form, sent again while its first step — PHQ-9 item 9 above 0 —
    waits for its ASQ step: that first step suspended the course, yet the ASQ step (or the
    first step sent again) belongs to the check-in in progress and is taken as the `pre` page
    (`services._completes_first_step` stores it as a hold, never a go-ahead). Opened afresh,
    the link shows the suspended course's page with the crisis resources."""
    return (
        request.method == "POST"
        and request.POST.get("step", "pre") == "pre"
        and s.first_steps.filter(resolved_at__isnull=True).exists()
    )


def _session_page(s: Session, course: Course) -> str:
    """Which page the session's link shows now: one of the forms (`consent`, `pre`, `post`,
    each posting its name as `step`) or a statement (`expired`, `wait`, `not_yet` before the
    session's day — `services.pre_checkin_opens_at` — or the session's state: held, done,
    missed, cancelled)."""
    if s.status in (rules.SCHEDULED, rules.READY) and timezone.now() > s.link_expires_at:
        return "expired"
    if s.status == rules.SCHEDULED and not services.consent_signed(course):
        return "consent"
    if s.status == rules.SCHEDULED and course.status != rules.ACTIVE:
        return "wait"
    if s.status == rules.SCHEDULED and timezone.now() < services.pre_checkin_opens_at(s):
        return "not_yet"  # the check-in asks about the session's own day
    if s.status == rules.SCHEDULED:
        return "pre"
    if s.status == rules.READY:
        return "post"
    return str(s.status)


@dataclass(frozen=True, slots=True)
class _Link:
    """A patient's private link: its URL's name and token, its course, the alert source its
    answers are reported under, and its session or weekly questionnaire."""

    name: str
    token: str
    course: Course
    source: str
    session: Session | None = None
    weekly: Weekly | None = None

    def redirect(self) -> HttpResponse:
        return redirect(self.name, token=self.token)


def _not_saved(request: HttpRequest, link: _Link) -> HttpResponse:
    """The answer for a page that changed could not be stored. Back to the link, which shows
    where things stand now with a notice — unless the answers sent show suicide risk (PHQ-9
    item 9 above 0, an ASQ yes or refused: the engine's rule). Then the program is told as if
    they had been stored (`services.risk_reported_unsaved`: course suspended, safety alert),
    and this response, at once, puts the crisis resources first (safety does not wait for a
    redirect), with a link on to the page."""
    answers = posted_safety_answers(request.POST)
    if not shows_risk(answers):
        return back_not_saved(link.name, link.token)
    services.risk_reported_unsaved(
        link.course, link.source, answers, timezone.now(), session=link.session, weekly=link.weekly
    )
    context = {"at_risk": True, "next_url": reverse(link.name, kwargs={"token": link.token})}
    return _page(request, "patient_not_saved.html", context, status=409)


def _sent_from_another_page(request: HttpRequest, page: str) -> bool:
    """A form sent from a page that is no longer the one its link shows: the other tab sent
    it first, its time ran out, the clinic or another answer changed the course. Its answers
    must not be read as the current page's (a pre check-in as an after-session check)."""
    return request.method == "POST" and request.POST.get("step", page) != page


def _consent(request: HttpRequest, s: Session, lang: str, base: dict[str, Any]) -> HttpResponse:
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.sign_consent(s.course, form.cleaned_data["signed_name"], lang, timezone.now())
            return redirect("course_patient:session", token=base["token"])
        except services.CourseError:  # the only refusal: a name that is blank once trimmed
            form.add_error("signed_name", _("Type your full name to sign"))
    if request.method == "GET":
        _viewed(request, s.course, "session.consent")
    wording = services.current_consent()
    text = wording.text.get(lang) or wording.text["en"]
    context = base | {
        "form": form,
        "version": wording.version,
        # An earlier version signed: the program has published a new one since.
        "renewal": s.course.consents.exists(),
        "paragraphs": [p.strip() for p in text.split("\n\n") if p.strip()],
    }
    return _page(request, "patient_consent.html", context, 422 if form.errors else 200)


def _pre(
    request: HttpRequest, s: Session, k: Knowledge, lang: str, base: dict[str, Any]
) -> HttpResponse:
    snap = s.course.rules_snapshot
    fasting = (snap["fasting_food_hours"], snap["fasting_liquid_minutes"])
    data = request.POST if request.method == "POST" else None
    form = PreForm(data, k=k, lang=lang, fasting=fasting)
    second_step = False
    if data is not None and form.asks_asq and "asq_shown" not in data:
        form.hide_asq_errors()  # item 9 above 0: the ASQ is asked before the check-in is stored
        second_step = True
        services.first_step_at_risk(
            s.course, posted_safety_answers(data), timezone.now(), session=s
        )
    elif form.is_valid():
        done = _submitted(
            request,
            form,
            lambda: services.submit_session_checkin(s, "pre", form.answers(), lang, timezone.now()),
            _session_link(base["token"], s),
        )
        if done is not None:
            return done
    else:
        _viewed(request, s.course, "session.pre")
    context = base | {"form": form, "fasting": fasting, "second_step": second_step}
    return _page(request, "patient_pre.html", context, 422 if form.errors else 200)


def _post(
    request: HttpRequest, s: Session, k: Knowledge, lang: str, base: dict[str, Any]
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = PostForm(data, k=k)
    if form.is_valid():
        doses = form.cleaned_data["doses_taken"]
        done = _submitted(
            request,
            form,
            lambda: services.submit_session_checkin(
                s, "post", form.answers(), lang, timezone.now(), doses_taken=doses
            ),
            _session_link(base["token"], s),
        )
        if done is not None:
            return done
    if data is None:
        _viewed(request, s.course, "session.post")
    pre = s.checkins.filter(kind=CheckIn.Kind.PRE).first()
    context = base | {
        "form": form,
        "proceed": k.copy["checkin"]["proceed"]["title"][lang],
        "pre_proceeded": pre is not None and pre.action == "proceed",
        "cleared": s.cleared_at is not None,
        # Suspended or paused since the pre check-in (e.g. a positive weekly answer): the
        # after-check stays open (it is safety monitoring), the dose must wait.
        "course_on_hold": s.course.status != rules.ACTIVE,
    }
    return _page(request, "patient_post.html", context, 422 if form.errors else 200)


def _submitted(
    request: HttpRequest, form: EngineForm, submit: Any, link: _Link
) -> HttpResponse | None:
    """Submit through the service, then back to the page (which then shows what comes next).

    None when the engine refused an answer: the form shows it again, nothing stored. A refusal
    from the course's rules means the session or questionnaire changed after the page was shown
    (sent from another tab, the link's time ran out, the clinic cancelled it or the course was
    put on hold): nothing was stored, and the page, shown again, is the one for where it stands
    now, with a notice that the answer was not saved — in the person's language, never the
    service's (English, staff-facing) reason.
    """
    try:
        submit()
    except InvalidInput as exc:
        form.add_engine_errors(exc)
        return None
    except services.CourseError:
        return _not_saved(request, link)
    return link.redirect()


def _summaries(k: Knowledge, reasons: list[dict[str, Any]], lang: str) -> list[str]:
    entries = (reason_entry(k, r["rule"]) for r in reasons)
    return [e["summary"][lang] for e in entries if e]


def _hold(k: Knowledge, s: Session, lang: str) -> dict[str, Any]:
    pre = s.checkins.filter(kind=CheckIn.Kind.PRE).first()
    copy = k.copy["checkin"]["hold"]
    rules_given = [r["rule"] for r in pre.decision["reasons"]] if pre is not None else []
    return {
        "title": copy["title"][lang],
        "next": copy["next"][lang],
        # In the crisis range: which symptoms mean 911 now (FACTS §B6), above everything else.
        "urgent": k.copy["checkin"]["alert"]["next"][lang]
        if services.BP_CRISIS in rules_given
        else "",
        "reasons": _summaries(k, pre.decision["reasons"], lang) if pre else [],
        "at_risk": (pre is not None and pre.safety_level != "none") or _suspended(s.course),
    }


def _done(k: Knowledge, s: Session, lang: str) -> dict[str, Any]:
    post = s.checkins.filter(kind=CheckIn.Kind.POST).first()
    if post is None:  # marked done by the clinic
        return {"action": ""}
    copy = k.copy["checkin"][post.action]
    return {
        "action": post.action,
        "title": copy["title"][lang],
        "next": copy.get("next", {}).get(lang, ""),
        "reasons": _summaries(k, post.decision["reasons"], lang),
    }


# --- /w/<token>/ ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def weekly(request: HttpRequest, token: str) -> HttpResponse:
    w = services.weekly_by_token(token)
    if w is None:
        raise Http404
    course = w.course
    lang = _language(request, course.language)
    _keep_crisis_help_if_at_risk(request)
    k = current_knowledge()
    # Suspended (a positive safety answer, a first step among them): the crisis resources on
    # every page of the link, from the stored state, in any browser.
    base: dict[str, Any] = {"weekly": w, "course": course, "token": token}
    base["at_risk"] = _suspended(course)
    is_open = w.status == Weekly.Status.DUE and timezone.now() <= w.link_expires_at
    link = _Link("course_patient:weekly", token, course, Alert.Source.WEEKLY, weekly=w)
    if _sent_from_another_page(request, "weekly" if is_open else "closed"):
        return _not_saved(request, link)
    if w.status == Weekly.Status.DONE:
        _viewed(request, course, "weekly.done")
        return _page(request, "patient_weekly_done.html", base | _weekly_result(w))
    if not is_open:  # missed, or its link out of time
        _viewed(request, course, "weekly.expired")
        return _page(request, "patient_expired.html", base)
    recovery = RecoveryPlan.objects.filter(course=course).exists()
    data = request.POST if request.method == "POST" else None
    form = WeeklyForm(data, k=k, lang=lang, bladder=w.bladder, recovery=recovery)
    second_step = False
    if data is not None and form.asks_asq and "asq_shown" not in data:
        form.hide_asq_errors()
        second_step = True
        services.first_step_at_risk(course, posted_safety_answers(data), timezone.now(), weekly=w)
    elif form.is_valid():
        done = _submitted(
            request,
            form,
            lambda: services.submit_weekly(w, form.answers(), lang, timezone.now()),
            link,
        )
        if done is not None:
            return done
    else:
        _viewed(request, course, "weekly.form")
    context = base | {
        "form": form,
        "second_step": second_step,
        "phq9": [form[i] for i in PHQ9],
        "gad7": [form[i] for i in GAD7],
        "asq": [form[f] for f in form.fields if f.startswith("asq.")],
        "more": [form[f] for f in form.fields if f.startswith("course.")],
        "phq9_stem": k.instruments["phq9"].stem[lang],
        "gad7_stem": k.instruments["gad7"].stem[lang],
        "asq_stem": k.instruments["asq"].stem[lang],
        "licences": _licences(k, ("phq9", "gad7", "asq") if form.asks_asq else PHQ_GAD, lang),
        # Spanish wording whose validation is not confirmed says so, as on the screen's pages.
        "unconfirmed": {
            i: lang == "es" and not k.instruments[i].spanish_validated
            for i in ("phq9", "gad7", "asq")
        },
    }
    return _page(request, "patient_weekly.html", context, 422 if form.errors else 200)


PHQ_GAD = ("phq9", "gad7")


def _licences(k: Knowledge, instruments: tuple[str, ...], lang: str) -> list[str]:
    """The credit lines of the instruments on the page, each once: the PHQ-9 and the GAD-7
    share Pfizer's."""
    lines = (k.instruments[i].licence for i in instruments)
    return list(dict.fromkeys(line[lang] for line in lines if line))


def _weekly_result(w: Weekly) -> dict[str, Any]:
    checkin = getattr(w, "checkin", None)
    at_risk = checkin is not None and checkin.safety_level != "none"
    return {
        "at_risk": at_risk or _suspended(w.course),
        "bladder_on_hold": checkin is not None and _bladder_on_hold(w.course, checkin),
        # No next questionnaire is sent once the course is stopped (`reminders.due_weeklies`).
        "course_ended": w.course.status == rules.STOPPED,
    }


def _bladder_on_hold(course: Course, checkin: CheckIn) -> bool:
    """This questionnaire's new bladder symptoms hold the course until the physician decides
    (`services.awaiting_decision`; FACTS §B4: stop if new LUTS): its thanks page says so, and
    stops saying it once the physician has decided (or the course was stopped)."""
    if course.status not in (rules.PAUSED, rules.SUSPENDED):
        return False
    return any(c.pk == checkin.pk for c in services.awaiting_decision(course))


# --- /r/<token>/course/ --------------------------------------------------------------------------


def _course_for(token: str) -> Course:
    assessment = Assessment.by_token(token)
    if assessment is None or assessment.status != Assessment.Status.SUBMITTED:
        raise Http404
    case = Case.objects.filter(assessment=assessment).first()
    course = Course.objects.filter(case=case).select_related("case").first() if case else None
    if course is None:
        raise Http404
    return course


@require_http_methods(["GET"])
def overview(request: HttpRequest, token: str) -> HttpResponse:
    course = _course_for(token)
    _language(request, course.language)
    now = timezone.now()
    upcoming = course.sessions.exclude(status__in=rules.FINISHED).order_by("scheduled_for")
    current = next((s for s in upcoming if now <= s.link_expires_at), None)
    today = timezone.localtime(now, _zone(course)).date()
    # A stopped course asks for no more questionnaires (no reminder sends them either).
    ended = course.status == rules.STOPPED
    due = course.weeklies.filter(status=Weekly.Status.DUE, link_expires_at__gte=now)
    weekly_now = None if ended else due.filter(due_on__lte=today).first()
    recovery = RecoveryPlan.objects.filter(course=course).first()
    _viewed(request, course, "course")
    return _page(
        request,
        "patient_course.html",
        {
            "token": token,
            "course": course,
            "session": current,
            "on_hold": current is not None
            and (current.status == rules.HELD or course.status != rules.ACTIVE),
            # No session, and none can be scheduled until a clinician lifts the suspension or
            # the physician decides (e.g. after an emergency reported after a session).
            "course_on_hold": course.status in (rules.PAUSED, rules.SUSPENDED),
            # Stopped by the physician: no session, no check-in rules, no questionnaire.
            "course_ended": ended,
            "zone": zone_label(course.time_zone),
            "at_risk": _suspended(course),
            "weekly_now": weekly_now,
            "weekly_next": None if weekly_now or ended else due.first(),
            "snap": course.rules_snapshot,
            "recovery": _recovery(recovery),
            "charts": course_charts(
                current_knowledge(),
                services.measures(course),
                course.induction_end,
                translation.get_language()[:2] if translation.get_language() else "en",
                simple=True,
            ),
        },
    )


def _zone(course: Course) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(course.time_zone)


def _recovery(plan: RecoveryPlan | None) -> list[tuple[str, str]]:
    if plan is None:
        return []
    content = plan.content if isinstance(plan.content, dict) else {}
    labels = {
        "therapy": _("Therapy"),
        "rest": _("Rest"),
        "boundaries": _("Boundaries"),
        "support": _("Support people"),
    }
    return [(str(labels[p]), str(content[p])) for p in RECOVERY_PARTS if content.get(p)]
