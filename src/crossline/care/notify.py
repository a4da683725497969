"""Sending one alert notification: an e-mail through SMTP, or the paging webhook.

No PHI leaves crossline this way: a notification says an alert exists, its level, its deadline
and the link to it (sign-in and MFA required) — never a name, an answer, a phone number or an
address of the patient. What is stored about each attempt is equally bare: the channel, the
staff recipient, the status, the count and the exception's class name (its text could echo an
address).

The webhook (docs/operations.md, "Alert webhook"): a JSON POST signed with HMAC-SHA256 over
`<timestamp>.<body>` using `CROSSLINE_ALERT_WEBHOOK_SECRET`, sent in `X-Crossline-Signature`
as `sha256=<hex>` with the timestamp in `X-Crossline-Timestamp`; `X-Crossline-Delivery` is the
same on every retry of one notification, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from crossline.audit import Action, record
from crossline.care.models import Alert, Notification

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10  # SMTP and webhook: a stuck receiver must not stall the worker
MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 15  # then 30, 60, 120, 240 s: about 8 minutes in all


class NoAddress(Exception):
    """The staff account has no e-mail address."""


class WebhookRefused(Exception):
    """The webhook answered with something other than 2xx (a redirect counts as a refusal)."""


def alert_link(alert: Alert) -> str:
    return f"{settings.CROSSLINE.base_url}/clinic/alerts/{alert.public_id}/"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


LEVEL_WORDS = {"acute": "Acute", "non_acute": "Non-acute", "routine": "Routine"}


def email_message(note: Notification, to: str) -> EmailMessage:
    """Link only: the level, the deadline and, for a course alert, which kind of check raised
    it (a pre-session check-in, a missed check-in…) — never a reason, an answer or a name."""
    alert = note.alert
    level = LEVEL_WORDS.get(alert.level, alert.level)
    escalated = (
        f"Escalated (step {note.step}): nobody has acknowledged it yet.\n\n" if note.step else ""
    )
    if alert.is_safety:
        what, line = "safety alert", f"Level: {level.lower()} suicide risk\n"
    else:
        what = "course alert"
        line = f"Urgency: {level.lower()}\nFrom: {alert.get_source_display()}\n"
    body = (
        f"A {what} needs attention.\n\n{escalated}{line}"
        f"Respond by: {_utc(alert.due_at)}\n\n"
        f"Open it (sign-in required): {alert_link(alert)}\n\n"
        "This message carries no patient information by design: everything is behind the link.\n"
    )
    subject = f"[crossline] {level} {what}: respond by {_utc(alert.due_at)}"
    if note.step:
        subject = f"[crossline] ESCALATED {level.lower()} {what}: respond by " + _utc(alert.due_at)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def webhook_body(note: Notification) -> bytes:
    alert = note.alert
    payload = {
        "type": "crossline.safety_alert" if alert.is_safety else "crossline.course_alert",
        "source": alert.source,
        "event": "escalated" if note.step else "created",
        "alert": str(alert.public_id),
        "level": alert.level,
        "step": note.step,
        "due_at": alert.due_at.astimezone(UTC).isoformat(timespec="seconds"),
        "url": alert_link(alert),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirected POST would lose its body; the 3xx is reported as refused


def post_webhook(note: Notification) -> None:
    config = settings.CROSSLINE
    if urlsplit(config.alert_webhook_url).scheme not in ("http", "https"):
        raise WebhookRefused("scheme")
    body = webhook_body(note)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        config.alert_webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "crossline-alerts",
            "X-Crossline-Delivery": str(note.pk),
            "X-Crossline-Timestamp": timestamp,
            "X-Crossline-Signature": signature(config.alert_webhook_secret, timestamp, body),
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise WebhookRefused(str(response.status))


def send_email(note: Notification) -> None:
    to = note.user.email if note.user is not None else note.address
    if not to:
        raise NoAddress
    get_connection(timeout=TIMEOUT_SECONDS).send_messages([email_message(note, to)])


def _send(note: Notification) -> None:
    if note.channel == Notification.Channel.WEBHOOK:
        post_webhook(note)
    else:
        send_email(note)


# --- one attempt ----------------------------------------------------------------------------


def deliver(pk: int, now: datetime) -> str:
    """One delivery attempt of notification `pk`; its status afterwards.

    A failure is recorded (class name only), and retried by a new task after a growing delay
    until MAX_ATTEMPTS; then the notification is marked failed and the alert page shows it.
    """
    note = Notification.objects.select_related("alert", "alert__case", "user").filter(pk=pk).first()
    if note is None or note.status in (Notification.Status.SENT, Notification.Status.FAILED):
        return note.status if note else "missing"  # a duplicate task: nothing to do
    try:
        _send(note)
    except Exception as exc:  # every failure is recorded and retried
        return _failed(note, exc, now)
    return _sent(note, now)


def _audit(action: Action, note: Notification, **extra: object) -> None:
    record(
        action,
        actor="worker",
        patient=note.alert.case.public_id,
        object_type="notification",
        object_id=note.pk,
        detail={
            "channel": note.channel,
            "step": note.step,
            "to_user": note.user_id,
            "attempt": note.attempts,
            **extra,
        },
    )


def _sent(note: Notification, now: datetime) -> str:
    with transaction.atomic():
        note.attempts += 1
        note.status = Notification.Status.SENT
        note.sent_at = now
        note.save(update_fields=["attempts", "status", "sent_at"])
        _audit(Action.NOTIFICATION_SENT, note)
    logger.info("notification %s sent (%s, attempt %s)", note.pk, note.channel, note.attempts)
    return note.status


def _failed(note: Notification, exc: Exception, now: datetime) -> str:
    error = type(exc).__name__[:80]
    with transaction.atomic():
        note.attempts += 1
        note.last_error = error
        retry = note.attempts < MAX_ATTEMPTS
        note.status = Notification.Status.RETRYING if retry else Notification.Status.FAILED
        note.save(update_fields=["attempts", "last_error", "status"])
        _audit(Action.NOTIFICATION_FAILED, note, error=error, retry=retry)
        if retry:
            delay = timedelta(seconds=FIRST_RETRY_SECONDS * 2 ** (note.attempts - 1))
            from crossline.care.tasks import enqueue_notifications

            transaction.on_commit(lambda: enqueue_notifications([note.pk], after=now + delay))
    logger.warning(
        "notification %s (%s) attempt %s failed: %s%s",
        note.pk,
        note.channel,
        note.attempts,
        error,
        "; will retry" if retry else "; giving up",
    )
    return note.status
