"""Background tasks (the Django tasks API; run by `crossline worker`).

- `deliver_notification(id)`: one attempt at one alert notification (`notify.deliver`).
- `escalation_sweep()`: escalate due alerts now (the worker also runs it every minute itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from crossline.care.models import Notification

# A notification still unqueued this long after it was created lost its enqueue (the process
# stopped between the commit and `on_commit`): the sweep queues it again.
LOST_AFTER = timedelta(minutes=2)


@task()
def deliver_notification(notification_id: int) -> str:
    from crossline.care.notify import deliver

    return deliver(notification_id, timezone.now())


@task()
def escalation_sweep() -> int:
    from crossline.care.alerts import escalate_due

    return escalate_due(timezone.now())


def enqueue_notifications(ids: Iterable[int], after: datetime | None = None) -> None:
    """Queue one delivery task per notification (after a delay for retries)."""
    ids = list(ids)
    job = deliver_notification.using(run_after=after) if after else deliver_notification
    for pk in ids:
        job.enqueue(pk)
    Notification.objects.filter(pk__in=ids).update(queued_at=timezone.now())


def requeue_lost(now: datetime) -> int:
    lost = Notification.objects.filter(
        status=Notification.Status.PENDING, queued_at__isnull=True, created_at__lte=now - LOST_AFTER
    )
    ids = list(lost.values_list("pk", flat=True)[:500])
    if ids:
        enqueue_notifications(ids)
    return len(ids)
