"""Clinician session limits: 30 minutes idle, 12 hours at most, then sign in again.

Patients have no accounts; their sessions (the in-progress assessment) are not touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

STARTED = "crossline_session_started"
SEEN = "crossline_session_seen"
_WRITE_EVERY = 60  # seconds: the last-seen time is saved at most once a minute


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(STARTED)
            seen = session.get(SEEN)
            if started is None or seen is None:
                session[STARTED] = session[SEEN] = now
            elif (
                now - seen > settings.SESSION_IDLE_SECONDS
                or now - started > settings.SESSION_ABSOLUTE_SECONDS
            ):
                from crossline.audit import Action, record

                record(Action.SESSION_EXPIRED, request=request)
                logout(request)
                request.session_expired = True  # type: ignore[attr-defined]
            elif now - seen > _WRITE_EVERY:
                session[SEEN] = now
        return self.get_response(request)
