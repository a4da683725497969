"""The session, authentication, second-factor and messages layers, stepping aside for /api/.

/api/ is anonymous and stateless by contract: no cookie, no session, no sign-in, no CSRF
(django-ninja's views are csrf-exempt), so these layers have nothing to do there. Every other
path, /healthz included, keeps the whole stack. Each class is a subclass of the middleware it
wraps, so Django's and the admin's system checks still recognise it. django-axes stays as it
is: its check wants its own class, and it does nothing for a request that is not a sign-in.
"""

from __future__ import annotations

from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Sessions
from django_otp.middleware import OTPMiddleware as _OTP  # type: ignore[import-untyped]

from crossline.web import NotOnStatelessPaths


class SessionMiddleware(NotOnStatelessPaths, _Sessions):
    pass


class AuthenticationMiddleware(NotOnStatelessPaths, _Authentication):
    pass


class OTPMiddleware(NotOnStatelessPaths, _OTP):  # type: ignore[misc]
    pass


class MessageMiddleware(NotOnStatelessPaths, _Messages):
    pass
