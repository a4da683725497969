"""Clinicians with a verified second factor, and cases opened the way intake opens them.

A clinician is a real user in a role group with a confirmed TOTP device, signed in with
`client.force_login` and the session's `otp_device_id` set — what `django_otp.login` records
after a correct code — so `OTPMiddleware` marks the user verified on every request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from crossline.accounts.roles import Role
from crossline.clinic.models import Case
from crossline.intake import contact, flow
from crossline.intake.models import Assessment, ContactRequest
from crossline.knowledge import load
from tests.web.personas import CANDIDATE

NON_ACUTE = {**CANDIDATE, "phq9.9": 1, "asq.4": "yes", "asq.5": "no"}
ACUTE = {**CANDIDATE, "phq9.9": 2, "asq.1": "yes", "asq.3": "yes", "asq.5": "yes"}

# Distinctive contact details: found nowhere unless a page put them there.
NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.q@example.org"
PHONE = "(201) 555-0147"


def make_user(username: str, *roles: Role) -> User:
    user = User.objects.create_user(username, password="not-used-by-these-tests")
    for role in roles:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def sign_in(user: User, client: Client | None = None, verified: bool = True) -> Client:
    client = client or Client()
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def intake_user(db: None) -> User:
    return make_user("ines.intake", Role.INTAKE)


@pytest.fixture
def other_intake_user(db: None) -> User:
    return make_user("oscar.intake", Role.INTAKE)


@pytest.fixture
def physician_user(db: None) -> User:
    return make_user("dr.pham", Role.PHYSICIAN)


@pytest.fixture
def intake(intake_user: User) -> Client:
    return sign_in(intake_user)


@pytest.fixture
def other_intake(other_intake_user: User) -> Client:
    return sign_in(other_intake_user)


@pytest.fixture
def physician(physician_user: User) -> Client:
    return sign_in(physician_user)


@pytest.fixture
def operator(db: None) -> Client:
    return sign_in(make_user("olga.operator", Role.OPERATOR))


OpenCase = Callable[..., Case]


def open_case(
    answers: dict[str, Any] = CANDIDATE,
    *,
    lang: str = "en",
    kind: str = ContactRequest.Kind.EVALUATION,
    name: str = NAME,
    email: str = EMAIL,
    phone: str = PHONE,
    at: datetime | None = None,
) -> Case:
    """A submitted screen whose person left contact details, through intake's own functions."""
    k = load()
    now = at or timezone.now()
    assessment, _token = Assessment.start(lang)
    assessment.answers = answers
    assessment.record(flow.decide(k, answers, lang))
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = now
    assessment.save()
    data: dict[str, str] = {"consent": "on", "consent_version": contact.consent(k, lang).version}
    data |= {"name": name, "email": email, "phone": phone}
    if kind == ContactRequest.Kind.EVALUATION:
        data["state"] = answers["profile.state"]
        form: contact.ContactForm = contact.evaluation_form(
            k, assessment, lang, {f"evaluation-{f}": v for f, v in data.items()}
        )
    else:
        form = contact.contact_me_form(k, lang, {f"contact-{f}": v for f, v in data.items()})
    assert form.is_valid(), form.errors
    with transaction.atomic():
        contact.record_request(assessment, kind, form, now)
    return Case.objects.get(assessment=assessment)


@pytest.fixture
def new_case(db: None) -> OpenCase:
    return open_case
