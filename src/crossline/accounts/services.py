"""Accounts: creating a user and their enrolment link, the second factor, and the steps of
sign-in that views share. Cryptography is django-otp's (TOTP, static codes) and Django's
(Argon2 password hashing); nothing here invents its own.
"""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login  # type: ignore[import-untyped]
from django_otp.plugins.otp_static.models import (  # type: ignore[import-untyped]
    StaticDevice,
    StaticToken,
)
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from crossline.accounts.context import home_for
from crossline.accounts.middleware import EPOCH, SEEN, STARTED
from crossline.accounts.models import (
    Authenticator,
    EnrolmentToken,
    Profile,
    RecoveryCodes,
)
from crossline.accounts.roles import Role
from crossline.audit import Action, record

RECOVERY_CODES = 10
PENDING = "crossline_pending_signin"  # session: the user who passed the password step
PENDING_SECONDS = 10 * 60  # the second step must follow within ten minutes
BACKEND = "django.contrib.auth.backends.ModelBackend"


class AccountError(ValueError):
    """Bad input for an account operation; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- creating accounts --------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def enrolment_link(token: str) -> str:
    return f"{settings.CROSSLINE.base_url.rstrip('/')}/clinic/enrol/{token}/"


def create_user(email: str, roles: list[str]) -> tuple[Any, str]:
    """A new account (no usable password, no device) with `roles`, and its enrolment token."""
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError("email", "not a valid email address") from None
    if not roles:
        raise AccountError("role", f"at least one is needed ({', '.join(Role)})")
    wanted = []
    for name in roles:
        try:
            wanted.append(Role(name.strip().lower()))
        except ValueError:
            raise AccountError("role", f"unknown role {name[:40]!r} ({', '.join(Role)})") from None
    User = get_user_model()
    with transaction.atomic():
        if User.objects.filter(username=email).exists():
            raise AccountError(
                "email", "an account with this email already exists (use --reissue for a new link)"
            )
        user = User(username=email, email=email, is_active=True)
        user.set_unusable_password()
        user.save()
        user.groups.set(Group.objects.filter(name__in=[r.value for r in wanted]))
        Profile.objects.create(user=user)
        token = EnrolmentToken.issue(user)
        record(
            Action.USER_CREATED,
            actor="system",
            object_type="user",
            object_id=user.pk,
            detail={"roles": ",".join(sorted(r.value for r in wanted))},
        )
    return user, token


def reissue_enrolment(email: str) -> tuple[Any, str]:
    """A new enrolment link for an existing account. It is a reset: the old link, password,
    authenticator and recovery codes stop working at once, and every session ends."""
    email = normalise_email(email)
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=email).first()
        if user is None:
            raise AccountError("email", "no account has this email")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        Profile.bump_epoch(user.pk)
        token = EnrolmentToken.issue(user)
        record(
            Action.USER_CHANGED,
            actor="system",
            object_type="user",
            object_id=user.pk,
            detail={"change": "enrolment_reissued"},
        )
    return user, token


# --- the second factor ----------------------------------------------------------------------


def confirmed_totp(user: Any) -> Authenticator | None:
    found: Authenticator | None = (
        Authenticator.objects.filter(user=user, confirmed=True).order_by("pk").first()
    )
    return found


def pending_totp(user: Any) -> Authenticator:
    """The authenticator being enrolled (unconfirmed), created on first use."""
    device: Authenticator | None = (
        Authenticator.objects.filter(user=user, confirmed=False).order_by("pk").first()
    )
    return device or Authenticator.enrol(user, "Authenticator app")


def manual_secret(device: Authenticator) -> str:
    """The base32 secret in groups of four, for typing into an authenticator app."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(data: str) -> str:
    """An inline SVG QR code (qrcode's SVG path factory): no script, no style attribute."""
    import qrcode  # type: ignore[import-untyped]
    from qrcode.image.svg import SvgPathImage  # type: ignore[import-untyped]

    image = qrcode.make(data, image_factory=SvgPathImage, box_size=8, border=4)
    svg: str = image.to_string(encoding="unicode")
    return svg


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the user's recovery codes with ten new single-use ones (shown once; stored only
    as keyed digests)."""
    return RecoveryCodes.issue(user, RECOVERY_CODES)


def recovery_codes_left(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def clean_code(raw: str) -> str:
    return "".join(raw.split()).lower()[:32]


def is_totp_code(code: str) -> bool:
    """Six ASCII digits: str.isdigit() alone also takes "²" and Arabic-Indic digits, which
    int() (django-otp's check) rejects or reads as the same number."""
    return code.isascii() and code.isdigit() and len(code) == 6


def check_code(request: HttpRequest, user: Any) -> tuple[Any | None, str]:
    """Check the code the user typed (`otp_token`): a 6-digit authenticator code or a recovery
    code. Returns (the device that matched, "") or (None, an error message). Every failure is
    recorded (`mfa.failed`) and counted by django-axes as a failed sign-in; django-otp's
    throttling also slows guesses per device (1, 2, 4, … seconds)."""
    code = clean_code(request.POST.get("otp_token", ""))
    if not code:
        return None, "Enter the 6-digit code from your authenticator app, or a recovery code."
    if is_totp_code(code):
        devices: list[Any] = list(Authenticator.objects.filter(user=user, confirmed=True))
        kind = "totp"
    else:
        devices = list(RecoveryCodes.objects.filter(user=user, confirmed=True))
        kind = "recovery"
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            wait = ""
            if info and info.get("locked_until"):
                from django.utils import timezone

                seconds = max(1, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)
                wait = f" Wait {seconds} seconds before trying again."
            _mfa_failed(request, user, kind, "throttled")
            return None, "Too many wrong codes." + wait
        if device.verify_token(code):
            if kind == "recovery":
                record(
                    Action.RECOVERY_CODE_USED,
                    request=request,
                    actor=user,
                    object_type="user",
                    object_id=user.pk,
                    detail={"codes_left": recovery_codes_left(user)},
                )
            return device, ""
    _mfa_failed(request, user, kind, "wrong_code")
    return None, "That code is not right. Codes change every 30 seconds; try the current one."


def _mfa_failed(request: HttpRequest, user: Any, kind: str, reason: str) -> None:
    record(
        Action.MFA_FAILED,
        request=request,
        actor=user,
        object_type="user",
        object_id=user.pk,
        detail={"kind": kind, "reason": reason},
    )
    # django-axes counts it with the password failures: 5 per account and address, then locked.
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


# --- sign-in steps --------------------------------------------------------------------------


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`next` when it is a local path on this site, else "" (the user's home, once known)."""
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return ""


def landing(request: HttpRequest, user: Any, candidate: str | None = "") -> str:
    """Where a signed-in user goes: a safe `next`, else the first page their roles open (an
    operator-only account would be refused by the clinical queue)."""
    return safe_next(request, candidate) or home_for(user)


def start_pending(request: HttpRequest, user: AbstractBaseUser, next_url: str) -> None:
    """The password (or enrolment link) was right: a new session remembers who, for the second
    step only. The user is not signed in until the second factor is checked."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "id": user.pk,
        "at": time.time(),
        "next": next_url,
        # A reset (--reissue), "sign out everywhere" or turning the account off raises the
        # epoch: a sign-in waiting at the second step ends with the sessions it signs out.
        "epoch": Profile.epoch_of(int(user.pk)),
    }


def pending_user(request: HttpRequest) -> Any | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    user_id = pending.get("id")
    if (
        time.time() - float(pending.get("at", 0)) > PENDING_SECONDS
        or not isinstance(user_id, int)
        or pending.get("epoch") != Profile.epoch_of(user_id)
    ):
        del request.session[PENDING]
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def pending_next(request: HttpRequest) -> str:
    pending = request.session.get(PENDING) or {}
    return safe_next(request, pending.get("next"))


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def complete_sign_in(request: HttpRequest, user: Any, device: Any, method: str) -> str:
    """Both factors passed: Django's login (a new session key again), the device on the
    session (django-otp), the session's clocks and epoch, and `signin.succeeded`.
    Returns where to go next: the page asked for, else the user's home."""
    next_url = pending_next(request) or home_for(user)
    clear_pending(request)
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    now = time.time()
    request.session[STARTED] = request.session[SEEN] = now
    request.session[EPOCH] = Profile.epoch_of(user.pk)
    record(
        Action.SIGNIN_SUCCEEDED,
        request=request,
        object_type="user",
        object_id=user.pk,
        detail={"method": method},
    )
    return next_url
