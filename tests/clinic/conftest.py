"""Clinicians with a verified second factor (tests/staff.py), and cases opened the way intake
opens them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.clinic.models import Case
from crossline.intake import contact
from crossline.intake.models import ContactRequest
from crossline.knowledge import load
from tests.screens import submitted
from tests.staff import signed_in, staff_user
from tests.web.personas import CANDIDATE

NON_ACUTE = {**CANDIDATE, "phq9.9": 1, "asq.4": "yes", "asq.5": "no"}
ACUTE = {**CANDIDATE, "phq9.9": 2, "asq.1": "yes", "asq.3": "yes", "asq.5": "yes"}

# Distinctive contact details: found nowhere unless a page put them there.
NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.q@example.org"
PHONE = "(201) 555-0147"


@pytest.fixture
def intake_user(db: None) -> User:
    return staff_user("ines.intake", Role.INTAKE)


@pytest.fixture
def other_intake_user(db: None) -> User:
    return staff_user("oscar.intake", Role.INTAKE)


@pytest.fixture
def physician_user(db: None) -> User:
    return staff_user("dr.pham", Role.PHYSICIAN)


@pytest.fixture
def intake(intake_user: User) -> Client:
    return signed_in(intake_user)


@pytest.fixture
def other_intake(other_intake_user: User) -> Client:
    return signed_in(other_intake_user)


@pytest.fixture
def physician(physician_user: User) -> Client:
    return signed_in(physician_user)


@pytest.fixture
def operator(db: None) -> Client:
    return signed_in(staff_user("olga.operator", Role.OPERATOR))


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
    assessment, _token = submitted(answers, lang, now)
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
