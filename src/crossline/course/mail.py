"""The course reminders' words: an e-mail and a text message per session or weekly check-in.

Nothing about the person or their care goes out — no name, no diagnosis, no medicine, no
answers: only that a check-in for their program is coming, when, the private link, and the
crisis lines. The patient's address and phone are decrypted here only to send. In the course's
language (English or Spanish); dates in the course's time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.formats import date_format, time_format

from crossline.clinic.models import Case
from crossline.course.models import Course, Session, Weekly
from crossline.visits.zones import zone_label

COPY: dict[str, dict[str, str]] = {
    "en": {
        "subject": "crossline: a check-in for your program",
        "session": "You have a check-in for your program session on %(when)s.",
        "weekly": "You have a weekly check-in for your program due on %(when)s.",
        "link": "Your private check-in link: %(link)s",
        "private": "Keep it private: anyone with this link can open your check-in.",
        "crisis": "If you are in crisis, call or text 988. In an emergency, call 911.",
        "sms_crisis": "Crisis: call/text 988. Emergency: 911.",
    },
    "es": {
        "subject": "crossline: un registro de su programa",
        "session": "Tiene un registro para la sesión de su programa el %(when)s.",
        "weekly": "Tiene un registro semanal de su programa para el %(when)s.",
        "link": "Su enlace privado para el registro: %(link)s",
        "private": "Manténgalo en privado: cualquiera con este enlace puede abrir su registro.",
        "crisis": (
            "Si está en crisis, llame al 988 y oprima 2, o envíe AYUDA al 988. "
            "En una emergencia, llame al 911."
        ),
        "sms_crisis": "Crisis: llame al 988 y oprima 2, o envíe AYUDA al 988. Emergencia: 911.",
    },
}


def _contacts(case: Case) -> list[dict[str, object]]:
    return [r.contact or {} for r in case.assessment.contacts.order_by("-created_at")]


def patient_address(case: Case) -> str | None:
    """The e-mail the person left with their request (newest first), as visits/mail.py."""
    for contact in _contacts(case):
        if contact.get("email"):
            return str(contact["email"])
    return None


def patient_phone(case: Case) -> str | None:
    for contact in _contacts(case):
        if contact.get("phone"):
            return str(contact["phone"])
    return None


def language(course: Course) -> str:
    return course.language if course.language in COPY else "en"


def when(course: Course, item: Session | Weekly) -> str:
    """ "Thursday, March 12, 2026, 3 p.m., Eastern time (America/New_York)" in the course's
    zone and language, the zone named as on the pages and the visit e-mails (weekly: the day)."""
    with translation.override(language(course)):
        if isinstance(item, Weekly):
            return f"{date_format(item.due_on, 'l')}, {date_format(item.due_on, 'DATE_FORMAT')}"
        local: datetime = item.scheduled_for.astimezone(ZoneInfo(course.time_zone))
        day = f"{date_format(local, 'l')}, {date_format(local, 'DATE_FORMAT')}"
        return f"{day}, {time_format(local, 'TIME_FORMAT')}, {zone_label(course.time_zone)}"


def link(item: Session | Weekly) -> str:
    """The private link: /s/<token>/ for a session, /w/<token>/ for a weekly."""
    prefix = "w" if isinstance(item, Weekly) else "s"
    return f"{settings.CROSSLINE.base_url}/{prefix}/{item.token}/"


def _opening(course: Course, item: Session | Weekly) -> str:
    words = COPY[language(course)]
    kind = "weekly" if isinstance(item, Weekly) else "session"
    return words[kind] % {"when": when(course, item)}


def email(course: Course, item: Session | Weekly) -> EmailMessage | None:
    """The reminder e-mail, or None when the person left no e-mail address."""
    address = patient_address(course.case)
    if not address:
        return None
    words = COPY[language(course)]
    lines = [
        _opening(course, item),
        "",
        words["link"] % {"link": link(item)},
        words["private"],
        "",
        words["crisis"],
    ]
    return EmailMessage(words["subject"], "\n".join(lines), settings.CROSSLINE.mail_from, [address])


def sms_body(course: Course, item: Session | Weekly) -> str:
    words = COPY[language(course)]
    return f"crossline: {_opening(course, item)} {link(item)} {words['sms_crisis']}"
