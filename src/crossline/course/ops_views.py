"""The course's dispensing page (physicians record supplies; intake and physicians view) and
its recovery-plan page (intake or physician). Every view and write is audited."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role, has_role
from crossline.audit import Action, record
from crossline.course import dispensing
from crossline.course import recovery as plans
from crossline.course.models import Course, RecoveryPlan
from crossline.course.ops_forms import RecoveryForm, SupplyForm
from crossline.course.services import CourseError, local_today


def course_for(public_id: uuid.UUID) -> Course:
    course = Course.objects.select_related("case").filter(public_id=public_id).first()
    if course is None:
        raise Http404
    return course


def _viewed(request: HttpRequest, course: Course, page: str) -> None:
    record(
        Action.COURSE_VIEWED,
        request=request,
        patient=course.case.public_id,
        object_type="course",
        object_id=course.public_id,
        detail={"page": page},
    )


def _field_error(form: Any, exc: CourseError) -> None:
    """A service's "field: message" names a field of the form; otherwise a form-wide error,
    the message whole (a sentence may hold a colon)."""
    field, sep, message = str(exc).partition(": ")
    if sep and field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, str(exc))


def _again(request: HttpRequest, course: Course, today: date) -> SupplyForm:
    """The refused supply back in the form, now carrying the count of the supplies listed
    below it: sending it again is a deliberate new supply."""
    data = request.POST.copy()
    data["seen"] = str(course.supplies.count())
    again = SupplyForm(data, today=today)
    again.is_valid()
    return again


@role_required(Role.INTAKE, Role.PHYSICIAN)
@require_http_methods(["GET", "POST"])
def supplies(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    course = course_for(public_id)
    may_record = has_role(request.user, Role.PHYSICIAN)
    today = local_today(timezone.now(), course.time_zone)
    form = SupplyForm(today=today, initial={"seen": course.supplies.count()})
    if request.method == "POST":
        if not may_record:
            record(Action.PERMISSION_DENIED, request=request,
                   detail={"path": request.path[:80], "view": "supplies"})  # fmt: skip
            raise PermissionDenied
        form = SupplyForm(request.POST, today=today)
        if form.is_valid():
            d = form.cleaned_data
            try:
                dispensing.record_supply(
                    course,
                    dispensed_on=d["dispensed_on"],
                    quantity=d["quantity"],
                    doses=d["doses"],
                    pharmacy=d["pharmacy"],
                    delivery_signed=d["delivery_signed"] == "yes",
                    pdmp_checked_on=d["pdmp_checked_on"],
                    pdmp_note=d["pdmp_note"],
                    doses_reported_left=d["doses_reported_left"],
                    user=request.user,
                    request=request,
                    now=timezone.now(),
                    seen=d["seen"],
                )
            except CourseError as exc:
                form = _again(request, course, today)
                _field_error(form, exc)
            else:
                return redirect("course_ops:supplies", public_id=course.public_id)
    _viewed(request, course, "supplies")
    context = {"course": course, "form": form, "may_record": may_record,
               **dispensing.summary(course)}  # fmt: skip
    return render(request, "course/ops_supplies.html", context, status=400 if form.errors else 200)


def _stale(request: HttpRequest, exc: plans.StaleEdit, today: date) -> RecoveryForm:
    """The editor's text back in the form, with the refusal, now carrying the current version:
    saving again is a deliberate replacement of the plan shown below it."""
    data = request.POST.copy()
    data["version"] = plans.version_of(exc.current)
    again = RecoveryForm(data, today=today)
    again.is_valid()
    again.add_error(None, str(exc))
    return again


@role_required(Role.INTAKE, Role.PHYSICIAN)
@require_http_methods(["GET", "POST"])
def recovery(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    course = course_for(public_id)
    existing = RecoveryPlan.objects.filter(course=course).first()
    today = local_today(timezone.now(), course.time_zone)
    if request.method == "POST":
        form = RecoveryForm(request.POST, today=today)
        if form.is_valid():
            d = form.cleaned_data
            try:
                plans.save_plan(
                    course,
                    content={k: d[k] for k in plans.FIELDS},
                    agreed_on=d["agreed_on"],
                    user=request.user,
                    request=request,
                    now=timezone.now(),
                    version=d["version"],
                )
            except plans.StaleEdit as exc:
                existing = exc.current
                form = _stale(request, exc, today)
            except CourseError as exc:
                _field_error(form, exc)
            else:
                return redirect("course_ops:recovery", public_id=course.public_id)
    else:
        initial: dict[str, Any] = dict(existing.content) if existing else {}
        if existing:
            initial["agreed_on"] = existing.agreed_on
        initial["version"] = plans.version_of(existing)
        form = RecoveryForm(initial=initial, today=today)
    _viewed(request, course, "recovery")
    context = {
        "course": course,
        "form": form,
        "plan": existing,
        "answers": plans.weekly_answers(course),
    }
    return render(request, "course/ops_recovery.html", context, status=400 if form.errors else 200)
