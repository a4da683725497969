"""The visit's e-mails and their calendar files (RFC 5545 / iTIP, RFC 5546).

Nothing clinical goes out: the time, the program's video link and a link back (the patient's
private result link; for staff, the case record, which needs sign-in). The patient's address is
decrypted here only to send. Patient e-mails are in the patient's language; staff e-mails in
English. The calendar event is the same for everyone (UID per visit, SEQUENCE per proposal), so a
new time or a cancellation updates the event a calendar already holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress

from crossline.visits.models import Visit
from crossline.visits.zones import tz, zone_label

ALARM_BEFORE = timedelta(minutes=15)  # the calendar's own pop-up, besides our reminder e-mails
# A confirmed time leaves both calendars (METHOD:CANCEL) when the clinic cancels the visit, when
# it proposes a new time instead, or when the patient asks for another: one kind per reason, so
# each side is told why.
CANCELLATIONS = ("cancellation", "cancellation.new_time", "cancellation.patient_asked")
PATIENT_KINDS = ("proposal", "invitation", "reminder", *CANCELLATIONS)
CLINICIAN_KINDS = ("invitation", "reschedule", *CANCELLATIONS)


def patient_address(visit: Visit) -> str | None:
    """The e-mail the person left with their request (newest first); None if only a phone."""
    for request in visit.case.assessment.contacts.order_by("-created_at"):
        email = (request.contact or {}).get("email")
        if email:
            return str(email)
    return None


def when(visit: Visit) -> str:
    """ "Thursday, March 12, 2026, 3 p.m. – 3:45 p.m., Eastern time (America/New_York)", in the
    active language, in the visit's zone."""
    start = visit.starts_at.astimezone(tz(visit.time_zone))
    end = visit.ends_at.astimezone(tz(visit.time_zone))
    day = f"{date_format(start, 'l')}, {date_format(start, 'DATE_FORMAT')}"
    hours = f"{time_format(start, 'TIME_FORMAT')} – {time_format(end, 'TIME_FORMAT')}"
    return f"{day}, {hours}, {zone_label(visit.time_zone)}"


def _base() -> str:
    return str(settings.CROSSLINE.base_url)


def result_link(visit: Visit) -> str | None:
    token = visit.result_token
    return f"{_base()}{reverse('intake:result', args=[token])}" if token else None


def visit_link(visit: Visit) -> str:
    return f"{_base()}{reverse('visits:visit', args=[visit.case.public_id])}"


def calendar(visit: Visit, *, method: str, attendee: str) -> bytes:
    """The iTIP message: REQUEST for a confirmed visit, CANCEL for a withdrawn one. A confirmed
    time never moves (a new one is a new visit, so a new UID), and the CANCEL outranks the
    REQUEST it withdraws: RFC 5546 §3.2.5 wants its SEQUENCE higher, or calendar programs take
    it for an old copy and keep the event."""
    summary = _("crossline telehealth visit")
    event = Event()
    event.add("uid", f"visit-{visit.public_id}@crossline")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", visit.starts_at.astimezone(UTC))
    event.add("dtend", visit.ends_at.astimezone(UTC))
    event.add("sequence", visit.sequence + (1 if method == "CANCEL" else 0))
    event.add("summary", summary)
    event.add("location", visit.video_url)
    event.add("url", visit.video_url)
    event.add("description", _("Join the video visit: %(url)s") % {"url": visit.video_url})
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.CROSSLINE.mail_from}")
    organizer.params["cn"] = "crossline"
    event.add("organizer", organizer)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params.update({"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"})
    event.add("attendee", guest)
    if method == "REQUEST":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    cal = Calendar()
    cal.add("prodid", "-//crossline//telehealth visit//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add_component(event)
    return bytes(cal.to_ical())


def _attach_calendar(message: EmailMessage, visit: Visit, kind: str, attendee: str) -> None:
    """The invitation puts the event in the recipient's calendar; a cancellation takes it out."""
    if kind == "invitation":
        method = "REQUEST"
    elif kind in CANCELLATIONS:
        method = "CANCEL"
    else:
        return
    ics = calendar(visit, method=method, attendee=attendee)
    part = MIMEText(ics.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="visit.ics")
    message.attach(part)


def _compose(visit: Visit, kind: str, address: str, subject: str, lines: list[str]) -> EmailMessage:
    mail = EmailMessage(
        f"crossline: {subject}", "\n".join(lines), settings.CROSSLINE.mail_from, [address]
    )
    _attach_calendar(mail, visit, kind, address)
    return mail


def message(visit: Visit, kind: str, recipient: str) -> EmailMessage | None:
    """The e-mail of this kind for the patient or the clinician; None without an address."""
    if recipient == "patient":
        address = patient_address(visit)
        with translation.override(visit.language):
            return _patient_message(visit, kind, address) if address else None
    address = visit.proposed_by.email
    with translation.override("en"):
        return _clinician_message(visit, kind, address) if address else None


def _patient_message(visit: Visit, kind: str, address: str) -> EmailMessage:
    subject, opening = {
        "proposal": (
            _("A time is proposed for your video visit"),
            _("A clinician from the program has proposed a time for your video visit."),
        ),
        "invitation": (
            _("Your video visit is confirmed"),
            _("Your video visit is confirmed. The calendar invitation is attached."),
        ),
        "reminder": (
            _("Reminder: your video visit"),
            _("This is a reminder of your video visit."),
        ),
        "cancellation": (
            _("Your video visit is cancelled"),
            _(
                "The video visit below is cancelled. "
                "The program will contact you to find another time."
            ),
        ),
        "cancellation.new_time": (
            _("The time of your video visit has changed"),
            _(
                "The program has proposed a new time for your video visit, so the time below no "
                "longer stands and is cancelled in your calendar. A separate e-mail gives the new "
                "time: confirm it or ask for another through your private link."
            ),
        ),
        "cancellation.patient_asked": (
            _("You asked for another time for your video visit"),
            _(
                "You asked for another time, so the video visit below is cancelled in your "
                "calendar. A clinician will propose a new time and we will e-mail you."
            ),
        ),
    }[kind]
    lines = [opening, "", _("When: %(when)s") % {"when": when(visit)}]
    if kind not in CANCELLATIONS:
        lines.append(_("Video visit link: %(url)s") % {"url": visit.video_url})
    lines.append("")
    link = result_link(visit)
    if kind == "proposal":
        lines.append(
            _(
                "To confirm this time or ask for another, open the private link to your result "
                "(the one you saved when you finished the check) and go to your visit."
            )
        )
    if link:
        lines += [
            _("Your private link: %(link)s") % {"link": link},
            _("Keep it private: anyone with this link can see your result."),
        ]
    lines += ["", _("If you are in crisis, call or text 988. In an emergency, call 911.")]
    return _compose(visit, kind, address, subject, lines)


def _clinician_message(visit: Visit, kind: str, address: str) -> EmailMessage:
    subject, opening = {
        "invitation": ("Video visit confirmed", "The patient confirmed the video visit."),
        "reschedule": (
            "Patient asked for another time",
            "The patient asked for another time for the video visit. Propose a new time on the"
            " visit page.",
        ),
        "cancellation": ("Video visit cancelled", "The video visit below is cancelled."),
        "cancellation.new_time": (
            "Video visit moved: new time proposed",
            "A new time was proposed for this video visit, so the confirmed time below is"
            " cancelled in the calendars. The patient answers the new proposal through their"
            " link.",
        ),
        "cancellation.patient_asked": (
            "Patient asked for another time",
            "The patient asked for another time for the confirmed video visit below, so it is"
            " cancelled in the calendars. Propose a new time on the visit page.",
        ),
    }[kind]
    utc = timezone.localtime(visit.starts_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        opening,
        "",
        f"When: {when(visit)} ({utc})",
        f"Video visit link: {visit.video_url}",
        f"Visit page (sign-in required): {visit_link(visit)}",
        "",
        "No patient details are sent by e-mail.",
    ]
    return _compose(visit, kind, address, subject, lines)
