"""Sign-in (password, then an authenticator or recovery code), enrolment from a one-time link,
sign-out (here or everywhere) and the account page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from crossline.accounts import services
from crossline.accounts.decorators import role_required
from crossline.accounts.forms import CodeForm, SignInForm
from crossline.accounts.middleware import EPOCH
from crossline.accounts.models import EnrolmentToken, Profile, RecoveryCodes
from crossline.accounts.roles import roles_of
from crossline.audit import Action, record


def _verified(user: Any) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(verified) and verified())


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if _verified(request.user):
        return HttpResponseRedirect(services.landing(request, request.user, next_url))
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        email = services.normalise_email(form.cleaned_data["username"])
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        locked = bool(getattr(request, "axes_locked_out", False))
        if user is None:
            known = get_user_model().objects.filter(username=email).first()
            record(
                Action.SIGNIN_FAILED,
                request=request,
                # the account name only when it is one: a typed string could be a password
                actor=known if known is not None else "unknown",
                detail={"step": "password", "locked": locked},
            )
        if locked:
            # django-axes' middleware answers with the locked-out page (recorded by signal).
            return render(request, "accounts/sign_in.html", {"form": form}, status=429)
        if user is None:
            error = "That email and password do not match an account. Check both and try again."
        elif services.confirmed_totp(user) is None and not EnrolmentToken.set_up_may_continue(user):
            record(
                Action.SIGNIN_FAILED,
                request=request,
                actor=user,
                detail={"step": "enrolment_expired", "locked": False},
            )
            error = SET_UP_EXPIRED
        else:
            services.start_pending(request, user, services.safe_next(request, next_url))
            if services.confirmed_totp(user) is None:
                return HttpResponseRedirect("/clinic/enrol/authenticator/")
            return HttpResponseRedirect(settings.OTP_VERIFY_URL)
    elif request.method == "POST":
        error = "Enter your email and your password."
    context = {"form": form, "error": error, "next": services.safe_next(request, next_url)}
    status = 400 if error else 200
    return _no_store(render(request, "accounts/sign_in.html", context, status=status))


SET_UP_EXPIRED = (
    "Your account was never finished: no authenticator app was added within 72 hours of the"
    " enrolment link. Ask an operator for a new link (crossline createuser --email … --reissue)."
)


def _locked(request: HttpRequest, user: Any) -> bool:
    from axes.handlers.proxy import AxesProxyHandler  # type: ignore[import-untyped]

    return not AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def _lock_response(request: HttpRequest, user: Any) -> HttpResponse:
    services.clear_pending(request)
    if not getattr(request, "axes_locked_out", False):
        record(Action.SIGNIN_LOCKED_OUT, request=request, actor=user, detail={"step": "code"})
        request.axes_locked_out = True  # type: ignore[attr-defined]
    return render(request, "accounts/sign_in.html", {"form": SignInForm()}, status=429)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    if _verified(request.user):
        return HttpResponseRedirect(services.landing(request, request.user))
    user = services.pending_user(request)
    if user is None:
        if request.user.is_authenticated:  # signed in without a second factor: start again
            logout(request)
        messages.info(request, "Please sign in with your email and password first.")
        return HttpResponseRedirect(settings.LOGIN_URL)
    if services.confirmed_totp(user) is None:
        return HttpResponseRedirect("/clinic/enrol/authenticator/")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if _locked(request, user):
            return _lock_response(request, user)
        device, error = services.check_code(request, user)
        if getattr(request, "axes_locked_out", False):
            return _lock_response(request, user)
        if device is not None:
            method = "recovery" if isinstance(device, RecoveryCodes) else "totp"
            next_url = services.complete_sign_in(request, user, device, method)
            if method == "recovery":
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones on your account page.",
                )
            return HttpResponseRedirect(next_url)
    context = {"form": form, "error": error, "email": user.get_username()}
    return _no_store(render(request, "accounts/verify.html", context, status=400 if error else 200))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record(Action.SIGNOUT, request=request)
    logout(request)
    messages.info(request, "You are signed out.")
    return HttpResponseRedirect(settings.LOGIN_URL)


# --- enrolment ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1 of 3 from the one-time link: choose a password. The link is used up here."""
    link = EnrolmentToken.find_valid(token)
    if link is None:
        return _no_store(render(request, "accounts/enrol_invalid.html", status=410))
    user = link.user
    form = SetPasswordForm(user, request.POST or None)
    form.fields["new_password1"].widget.attrs.update({"autofocus": True, "maxlength": 256})
    form.fields["new_password2"].widget.attrs.update({"maxlength": 256})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            locked = EnrolmentToken.objects.select_for_update().get(pk=link.pk)
            if not locked.is_valid():  # used by a concurrent request
                return _no_store(render(request, "accounts/enrol_invalid.html", status=410))
            form.save()
            locked.used_at = timezone.now()
            locked.save(update_fields=["used_at"])
        logout(request)  # whoever was signed in on this browser, enrolment is someone else's
        services.start_pending(request, user, "")  # then the user's home (complete_sign_in)
        return HttpResponseRedirect("/clinic/enrol/authenticator/")
    context = {"form": form, "email": user.get_username(), "step": 1}
    status = 400 if form.errors else 200
    return _no_store(render(request, "accounts/enrol_password.html", context, status=status))


@require_http_methods(["GET", "POST"])
def enrol_authenticator(request: HttpRequest) -> HttpResponse:
    """Step 2 of 3: scan the QR code (or type the secret), confirm with a code; step 3 shows
    the ten recovery codes once, and the user is signed in."""
    user = services.pending_user(request)
    if user is None:
        messages.info(request, "Please sign in with your email and password first.")
        return HttpResponseRedirect(settings.LOGIN_URL)
    if services.confirmed_totp(user) is not None:
        return HttpResponseRedirect(settings.OTP_VERIFY_URL)
    if not EnrolmentToken.set_up_may_continue(user):  # the link ran out while on this page
        services.clear_pending(request)
        messages.error(request, SET_UP_EXPIRED)
        return HttpResponseRedirect(settings.LOGIN_URL)
    device = services.pending_totp(user)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if _locked(request, user):
            return _lock_response(request, user)
        code = services.clean_code(request.POST.get("otp_token", ""))
        allowed, _ = device.verify_is_allowed()
        if allowed and services.is_totp_code(code) and device.verify_token(code):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                type(device).objects.filter(user=user, confirmed=False).delete()
                codes = services.new_recovery_codes(user)
                Profile.objects.get_or_create(user=user)
                record(
                    Action.MFA_ENROLLED,
                    actor=user,
                    request=request,
                    object_type="user",
                    object_id=user.pk,
                    detail={"device": "totp"},
                )
                record(
                    Action.ENROLMENT_COMPLETED,
                    actor=user,
                    request=request,
                    object_type="user",
                    object_id=user.pk,
                )
                next_url = services.complete_sign_in(request, user, device, "enrolment")
            context = {"codes": codes, "next": next_url, "step": 3}
            return _no_store(render(request, "accounts/recovery_codes.html", context))
        services._mfa_failed(request, user, "totp", "wrong_code" if allowed else "throttled")
        if getattr(request, "axes_locked_out", False):
            return _lock_response(request, user)
        error = (
            "That code is not right. Enter the 6-digit code your app shows now."
            if allowed
            else "Too many wrong codes. Wait a few seconds, then enter the current code."
        )
    context = {
        "form": form,
        "error": error,
        "qr": services.qr_svg(device.config_url),
        "secret": services.manual_secret(device),
        "email": user.get_username(),
        "step": 2,
    }
    status = 400 if error else 200
    return _no_store(render(request, "accounts/enrol_authenticator.html", context, status=status))


# --- the account page -----------------------------------------------------------------------


@role_required()
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    codes: list[str] = []
    code_error = ""
    password_form = PasswordChangeForm(user)
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "recovery_codes":
        device = services.confirmed_totp(user)
        code = services.clean_code(request.POST.get("otp_token", ""))
        allowed, _ = device.verify_is_allowed() if device else (False, None)
        if (
            device is not None
            and allowed
            and services.is_totp_code(code)
            and device.verify_token(code)
        ):
            with transaction.atomic():
                codes = services.new_recovery_codes(user)
                record(
                    Action.RECOVERY_CODES_REGENERATED,
                    request=request,
                    object_type="user",
                    object_id=user.pk,
                )
        else:
            services._mfa_failed(request, user, "totp", "wrong_code" if allowed else "throttled")
            if getattr(request, "axes_locked_out", False):
                logout(request)
                return render(request, "accounts/sign_in.html", {"form": SignInForm()}, status=429)
            code_error = "That code is not right: enter the current code from your app."
    elif request.method == "POST" and action == "password":
        password_form = PasswordChangeForm(user, request.POST)
        if password_form.is_valid():
            with transaction.atomic():
                password_form.save()
                record(
                    Action.USER_CHANGED,
                    request=request,
                    object_type="user",
                    object_id=user.pk,
                    detail={"change": "password"},
                )
            update_session_auth_hash(request, user)  # this session stays; others end
            messages.success(request, "Your password is changed.")
            return HttpResponseRedirect("/clinic/account/")
        if "old_password" in password_form.errors:
            # A wrong current password counts with the sign-in failures (django-axes: 5 per
            # account and address, then locked out): an unattended session is no place to
            # guess it without limit.
            record(
                Action.SIGNIN_FAILED,
                request=request,
                actor=user,
                detail={"step": "password_change", "locked": False},
            )
            user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=request
            )
            if getattr(request, "axes_locked_out", False):
                logout(request)
                return render(request, "accounts/sign_in.html", {"form": SignInForm()}, status=429)
    context = {
        "roles": sorted(r.value for r in roles_of(user)),
        "codes_left": services.recovery_codes_left(user),
        "codes_stale": not codes and RecoveryCodes.stale(user),
        "codes": codes,
        "code_error": code_error,
        "password_form": password_form,
    }
    status = 400 if code_error or password_form.errors else 200
    return _no_store(render(request, "accounts/account.html", context, status=status))


@role_required()
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of this user, on every device, this one included."""
    user: Any = request.user
    with transaction.atomic():
        Profile.bump_epoch(user.pk)
        record(Action.SIGNOUT_EVERYWHERE, request=request, object_type="user", object_id=user.pk)
    request.session.pop(EPOCH, None)
    logout(request)
    messages.info(request, "You are signed out on every device.")
    return HttpResponseRedirect(settings.LOGIN_URL)
