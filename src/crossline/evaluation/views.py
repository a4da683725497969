"""The evaluation form (staff) and the decline/referral letter (the patient's private link)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods, require_POST

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role, has_role
from crossline.audit import Action, record
from crossline.clinic.models import Case
from crossline.evaluation import interactions
from crossline.evaluation.forms import (
    MAX_TRIAL_ROWS,
    AddendumForm,
    EvaluationForm,
    approval_facts,
    flag_field,
    initial_from,
    medication_lines,
)
from crossline.evaluation.models import Decision, Evaluation, Letter
from crossline.evaluation.record import (
    AlreadyDecided,
    CaseClosed,
    NotDecided,
    Stale,
    add_addendum,
    save,
)
from crossline.evaluation.rules import Unmet, adequate_failed_trials, unmet_requirements
from crossline.intake.models import Assessment
from crossline.knowledge import load
from crossline.program.models import ProgramSettings
from crossline.program.policy import current_knowledge

ACTIONS = ("save", "decide")


def case_for(user: Any, public_id: uuid.UUID) -> Case:
    """The case a clinician may see (one program per deployment: every case), or 404."""
    case = Case.objects.select_related("assessment").filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case


def adequate_trial_weeks() -> int:
    """Policy value (knowledge/policy.toml [evaluation], cited policy.adequate_trial)."""
    return int(load().docs["policy.toml"]["evaluation"]["adequate_trial_weeks"])


@role_required(Role.INTAKE, Role.PHYSICIAN)
@require_http_methods(["GET", "POST"])
def evaluation(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = case_for(request.user, public_id)
    existing = Evaluation.objects.filter(case=case).first()
    if request.method == "GET":
        return _show(request, case, existing)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    if action == "decide" and not has_role(request.user, Role.PHYSICIAN):
        # Least privilege: only a prescribing physician records the decision.
        record(
            Action.PERMISSION_DENIED,
            request=request,
            patient=case.public_id,
            detail={"path": request.path[:80], "view": "evaluation.decide"},
        )
        raise PermissionDenied
    if _held_by_another(case, request.user) and not has_role(request.user, Role.PHYSICIAN):
        # The claim says who is working on the case: others read it (a physician may take over).
        record(
            Action.PERMISSION_DENIED,
            request=request,
            patient=case.public_id,
            detail={"path": request.path[:80], "view": "evaluation.held_by_another"},
        )
        raise PermissionDenied
    if existing is not None and existing.status == Evaluation.Status.DECIDED:
        return _show(request, case, existing, status=409)
    if case.status == Case.Status.CLOSED:
        return _show(request, case, existing, status=409)
    return _submit(request, case, existing, deciding=action == "decide")


@role_required(Role.INTAKE, Role.PHYSICIAN)
@require_POST
def addendum(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A decided evaluation is final; a clinician corrects or completes it with an addendum."""
    case = case_for(request.user, public_id)
    existing = Evaluation.objects.filter(case=case).first()
    if existing is None or existing.status != Evaluation.Status.DECIDED:
        return _not_decided()
    form = AddendumForm(request.POST, auto_id="addendum_%s")
    if not form.is_valid():
        return _show(request, case, existing, status=422, addendum_form=form)
    try:
        add_addendum(request, case, form.cleaned_data["text"])
    except NotDecided:
        return _not_decided()
    from django.contrib import messages

    messages.success(request, "Addendum added.")
    return redirect("evaluation:evaluation", public_id=case.public_id)


def _not_decided() -> HttpResponse:
    return HttpResponse(
        "Only a decided evaluation takes addenda: edit the draft instead.",
        status=409,
        content_type="text/plain",
    )


def _held_by_another(case: Case, user: Any) -> bool:
    return case.status == Case.Status.CLAIMED and case.claimed_by_id != user.pk


def _screen(case: Case) -> dict[str, Any]:
    decision = case.assessment.decision or {}
    return {
        "flags": {f["rule"]: f["message"] for f in decision.get("flags", [])},
        "answers": case.assessment.answers or {},
    }


def _items(screen_flags: dict[str, str], checked: list[interactions.Interaction]) -> dict[str, str]:
    """Review items: the screen's flags, then what the reconciled list raises that is new."""
    items = dict(screen_flags)
    for rule, message in interactions.review_items(load(), checked).items():
        items.setdefault(rule, message)
    return items


def _form(
    request: HttpRequest, case: Case, existing: Evaluation | None, data: Any, deciding: bool
) -> EvaluationForm:
    screen = _screen(case)
    content = existing.content if existing is not None else {}
    if data is not None:
        meds = medication_lines(data.get("medications", ""))
        rows = _row_count(data.get("trial_rows", ""))
    else:
        meds = content["medications"] if content else list(screen["answers"].get("medications", []))
        rows = len(content.get("trials", [])) + 2 if content else 3
    checked = interactions.check(load(), meds)
    initial = initial_from(content) or {"medications": "\n".join(meds)}
    form = EvaluationForm(
        data,
        initial=initial,
        flags=_items(screen["flags"], checked),
        trial_rows=max(rows, 3),
        screened_positive=case.safety_level not in ("", "none"),
        deciding=deciding,
        today=timezone.localdate(),
    )
    form.checked = checked  # type: ignore[attr-defined]
    return form


def _posted_version(posted: str) -> int:
    """The version the form was loaded at: none posted is a form that saw no saved draft (0);
    anything but a few ASCII digits is no version (-1), which no draft has."""
    if not posted:
        return 0
    if posted.isascii() and posted.isdigit() and len(posted) <= 9:
        return int(posted)
    return -1


def _row_count(posted: str, default: int = 3) -> int:
    """The hidden trial-row count, bounded: ASCII digits only ("²" is a digit to str.isdigit()
    and not to int()) and no longer than the form's largest count; otherwise the default."""
    if posted.isascii() and posted.isdigit() and len(posted) <= len(str(MAX_TRIAL_ROWS)):
        return min(int(posted), MAX_TRIAL_ROWS)
    return default


def _unmet(case: Case, form: EvaluationForm, content: dict[str, Any]) -> list[Unmet]:
    checked: list[interactions.Interaction] = form.checked  # type: ignore[attr-defined]
    policy = current_knowledge().policy  # the service states as the operator set them now
    facts = approval_facts(
        content,
        flags=form.flags,
        safety_level=case.safety_level or "none",
        avoid=[f"{i.entry} ({i.label})" for i in interactions.avoided(checked)],
        basis_in_force=ProgramSettings.current().telemedicine_basis_in_force(timezone.localdate()),
        age=_screen(case)["answers"].get("profile.age"),
        min_age=policy.min_age,
        state=case.state,
        service_states=tuple(policy.service_states),
    )
    return unmet_requirements(facts)


def _submit(
    request: HttpRequest, case: Case, existing: Evaluation | None, deciding: bool
) -> HttpResponse:
    form = _form(request, case, existing, request.POST, deciding)
    seen = _posted_version(request.POST.get("version", ""))
    if not form.is_valid():
        return _page(request, case, existing, form, status=422, version=max(seen, 0))
    content = form.content()
    if deciding and content["decision"]["kind"] == Decision.APPROVE:
        unmet = _unmet(case, form, content)
        if unmet:
            return _page(
                request, case, existing, form, unmet=unmet, status=422, version=max(seen, 0)
            )
    try:
        saved = save(request, case, content, decide=deciding, seen=seen)
    except Stale as stale:
        # The entries stay on the page; its form now carries the saved version, so saving again
        # (having compared) is a deliberate replacement, not a silent one.
        current = stale.current
        version = current.version if current is not None else 0
        return _page(request, case, current, form, status=409, version=version, conflict=True)
    except AlreadyDecided:
        return _show(request, case, Evaluation.objects.get(case=case), status=409)
    except CaseClosed:
        case.refresh_from_db()
        return _show(request, case, existing, status=409)
    from django.contrib import messages

    if saved.status == Evaluation.Status.DECIDED:
        messages.success(request, f"Decision recorded: {saved.get_decision_display()}.")
    else:
        messages.success(request, "Draft saved.")
    return redirect("evaluation:evaluation", public_id=case.public_id)


def _show(
    request: HttpRequest,
    case: Case,
    existing: Evaluation | None,
    status: int = 200,
    addendum_form: AddendumForm | None = None,
) -> HttpResponse:
    form = _form(request, case, existing, None, deciding=False)
    return _page(request, case, existing, form, status=status, addendum_form=addendum_form)


def _page(
    request: HttpRequest,
    case: Case,
    existing: Evaluation | None,
    form: EvaluationForm,
    unmet: list[Unmet] | None = None,
    status: int = 200,
    addendum_form: AddendumForm | None = None,
    version: int | None = None,
    conflict: bool = False,
) -> HttpResponse:
    decided = existing is not None and existing.status == Evaluation.Status.DECIDED
    if decided or case.status == Case.Status.CLOSED:
        for field in form.fields.values():
            field.disabled = True
    addendum_form = addendum_form or AddendumForm(auto_id="addendum_%s")
    for f in (form, addendum_form):
        _describe(f)
    # Reading the page shows PHI (the screen's medicines, the clinician's notes): an event.
    record(
        Action.RECORD_VIEWED,
        request=request,
        patient=case.public_id,
        object_type="evaluation",
        object_id=existing.pk if existing else "",
        detail={"view": "evaluation"},
    )
    context = _context(request, case, existing, form, unmet)
    context["addendum_form"] = addendum_form
    context["refused"] = status == 409
    context["conflict"] = conflict
    if version is None:
        version = existing.version if existing is not None else 0
    context["version"] = version
    context["addenda"] = _addenda(existing) if decided else []
    return render(request, "evaluation/form.html", context, status=status)


def _describe(form: Any) -> None:
    """Screen readers read a field's error (and its help) with the field."""
    for name in form.errors:
        if name in form.fields:
            described = f"{form[name].auto_id}_error"
            if form.fields[name].help_text:
                described += f" {form[name].auto_id}_helptext"
            form.fields[name].widget.attrs["aria-describedby"] = described


def _addenda(evaluation: Evaluation | None) -> list[dict[str, Any]]:
    if evaluation is None:
        return []
    return [
        {"text": a.text["text"], "author": a.author.get_username(), "at": a.created_at}
        for a in evaluation.addenda.select_related("author")
    ]


def _context(
    request: HttpRequest,
    case: Case,
    existing: Evaluation | None,
    form: EvaluationForm,
    unmet: list[Unmet] | None,
) -> dict[str, Any]:
    k = load()
    program = ProgramSettings.current()
    weeks = adequate_trial_weeks()
    trials = form.trials() if form.is_bound and form.is_valid() else _stored_trials(existing)
    checked: list[interactions.Interaction] = form.checked  # type: ignore[attr-defined]
    return {
        "case": case,
        "evaluation": existing,
        "decided": existing is not None and existing.status == Evaluation.Status.DECIDED,
        "closed": case.status == Case.Status.CLOSED,
        "form": form,
        "errors": _error_summary(form, unmet or []),
        "unmet": unmet or [],
        "flag_rows": [
            {
                "rule": rule,
                "message": message,
                "status": form[f"{flag_field(rule)}-status"],
                "note": form[f"{flag_field(rule)}-note"],
            }
            for rule, message in form.flags.items()
        ],
        "trial_rows": [
            [form[f"trial-{n}-{part}"] for part in ("drug", "adequate", "weeks", "outcome")]
            for n in range(1, form.trial_rows + 1)
        ],
        "trial_row_count": form.trial_rows,
        "interactions": [
            {
                "i": i,
                "sources": [
                    (c, k.citations[c].formatted()) for c in i.citations if c in k.citations
                ],
            }
            for i in checked
        ],
        "failed_trials": adequate_failed_trials(trials, weeks),
        "adequate_weeks": weeks,
        "adequate_source": k.citations["policy.adequate_trial"].formatted(),
        "screened_positive": form.screened_positive,
        **_bp_guide(form, existing),
        "physician": has_role(request.user, Role.PHYSICIAN),
        "basis": program.telemedicine_basis,
        "basis_expires": program.telemedicine_basis_expires,
        "basis_in_force": program.telemedicine_basis_in_force(timezone.localdate()),
        "screen_language": {"en": "English", "es": "Spanish"}.get(case.assessment.language, ""),
    }


def _bp_guide(form: EvaluationForm, existing: Evaluation | None) -> dict[str, Any]:
    """Whether the recorded reading is above the label's general guide (policy bp_review_*)."""
    policy = load().policy
    if form.is_bound:
        vitals = form.cleaned_data if form.is_valid() else {}
    else:
        vitals = existing.content["vitals"] if existing is not None else {}
    systolic, diastolic = vitals.get("bp_systolic"), vitals.get("bp_diastolic")
    above = (systolic or 0) > policy.bp_review_systolic or (
        diastolic or 0
    ) > policy.bp_review_diastolic
    return {
        "bp_above_guide": above,
        "bp_guide": f"{policy.bp_review_systolic}/{policy.bp_review_diastolic}",
    }


def _stored_trials(existing: Evaluation | None) -> list[Any]:
    from crossline.evaluation.rules import Trial

    if existing is None:
        return []
    return [Trial(**t) for t in existing.content["trials"]]


def _error_summary(form: EvaluationForm, unmet: list[Unmet]) -> list[dict[str, str]]:
    """Every problem, each linking to the field to fix (the error summary at the top)."""
    out = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Form"
        target = f"id_{name}" if name in form.fields else "evaluation-form"
        for error in errors:
            out.append({"label": str(label), "message": str(error), "target": target})
    for u in unmet:
        name = f"{flag_field(u.field)}-status" if u.code.startswith("flag:") else u.field
        out.append({"label": "Approval", "message": u.message, "target": f"id_{name}"})
    return out


# --- the patient's letter ------------------------------------------------------------------


def letter(request: HttpRequest, token: str) -> HttpResponse:
    assessment = Assessment.by_token(token)
    if assessment is None:
        raise Http404
    issued = Letter.objects.filter(assessment=assessment).order_by("-issued_at").first()
    if issued is None:
        raise Http404
    case = Case.objects.get(assessment=assessment)
    record(
        Action.LETTER_VIEWED_BY_PATIENT,
        request=request,
        actor="anonymous",
        patient=case.public_id,
        object_type="letter",
        object_id=issued.pk,
        detail={"kind": issued.kind},
    )
    # The screen's language, unless the person chose the other one with the language button.
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    lang = chosen if chosen in ("en", "es") else issued.language
    with translation.override(lang):
        return render(
            request,
            "evaluation/letter.html",
            {
                "letter": issued,
                "words": issued.text,
                "token": token,
                "decline": issued.kind == Decision.DECLINE,
            },
        )
