"""Background jobs of the visit (the Django tasks API; `crossline worker` runs them)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from crossline.audit import Action, record
from crossline.visits.models import Visit

# A message that is only true while the visit is still in this state (cancellations always go).
CURRENT_ONLY = {
    "proposal": Visit.Status.PROPOSED,
    "invitation": Visit.Status.CONFIRMED,
    "reschedule": Visit.Status.RESCHEDULE_REQUESTED,
}


@task()
def send_visit_mail(visit_id: int, kind: str, recipient: str, sequence: int) -> str:
    """Send one visit e-mail. A proposal replaced since it was queued is not announced."""
    from crossline.visits import mail

    visit = Visit.objects.select_related("case__assessment", "proposed_by").get(pk=visit_id)
    if kind in CURRENT_ONLY and (visit.sequence != sequence or visit.status != CURRENT_ONLY[kind]):
        return "stale"
    message = mail.message(visit, kind, recipient)
    if message is None:
        return "no address"
    message.send()
    with transaction.atomic():
        record(
            Action.NOTIFICATION_SENT,
            actor="system",
            patient=visit.case.public_id,
            object_type="visit",
            object_id=visit.public_id,
            detail={"kind": f"visit.{kind}", "to": recipient},
        )
    return "sent"
