"""The staff area's gate and its session limits.

- Anonymous requests to /clinic/* and /admin/* go to the sign-in page (with `next` for a GET),
  signed-in users whose second factor is not verified go to the second step. Views check roles
  themselves (`role_required`); this gate makes a view that forgets still refuse strangers.
- Sessions last 30 minutes idle and 12 hours at most; then the next request signs the user
  out, records `session.expired` and lands on the sign-in page with a message saying why.
- "Sign out everywhere" raises the user's session epoch; a session signed in under an older
  epoch is ended on its next request.
- A page's own background requests (the alerts list asking whether its alerts changed) are
  checked against these limits but are not activity: an unattended screen is still signed out.

Patients have no accounts; their sessions (the in-progress assessment) are not touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

STARTED = "crossline_session_started"
SEEN = "crossline_session_seen"
EPOCH = "crossline_session_epoch"
_WRITE_EVERY = 60  # seconds: the last-seen time is saved at most once a minute

STAFF_PREFIXES = ("/clinic/", "/admin/")
# Requests a page makes by itself, not the person: they never move the idle clock.
PASSIVE_PATHS = frozenset({"/clinic/alerts/summary.json"})
# Reached before the second factor: signing in, its second step, enrolment, signing out.
OPEN_PATHS = (
    "/clinic/sign-in/",
    "/clinic/verify/",
    "/clinic/enrol/",
    "/clinic/sign-out/",
    "/admin/login/",
    "/admin/logout/",
)


def _verified(user: object) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(verified()) if callable(verified) else False


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._limit(request)
        path = request.path
        if path.startswith(STAFF_PREFIXES) and not path.startswith(OPEN_PATHS):
            user = request.user
            if not user.is_authenticated:
                query = {"next": request.get_full_path()} if request.method == "GET" else {}
                url = settings.LOGIN_URL + (f"?{urlencode(query)}" if query else "")
                return HttpResponseRedirect(url)
            if not _verified(user):
                return HttpResponseRedirect(settings.OTP_VERIFY_URL)
        return self.get_response(request)

    def _limit(self, request: HttpRequest) -> None:
        from crossline.accounts.models import Profile

        now = time.time()
        session = request.session
        started = session.get(STARTED)
        seen = session.get(SEEN)
        reason = ""
        if started is None or seen is None:
            session[STARTED] = session[SEEN] = now
        elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
            reason = "absolute"
        elif now - seen > settings.SESSION_IDLE_SECONDS:
            reason = "idle"
        elif session.get(EPOCH, 0) != Profile.epoch_of(int(request.user.pk or 0)):
            reason = "signed_out_everywhere"
        elif now - seen > _WRITE_EVERY and request.path not in PASSIVE_PATHS:
            session[SEEN] = now
        if not reason:
            return
        if reason != "signed_out_everywhere":  # that one was recorded when it was asked for
            from crossline.audit import Action, record

            record(Action.SESSION_EXPIRED, request=request, detail={"reason": reason})
        logout(request)
        request.session_expired = True  # type: ignore[attr-defined]
        messages.warning(request, MESSAGES[reason])


MESSAGES = {
    "idle": "You were signed out after 30 minutes without activity. Please sign in again.",
    "absolute": "You were signed out: a session lasts at most 12 hours. Please sign in again.",
    "signed_out_everywhere": "You were signed out on every device. Please sign in again.",
}
