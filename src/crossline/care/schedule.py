"""Periodic jobs for `crossline worker`: a small registry and the loop's "run what is due".

Register a job by decorating a function of the current time, in a module listed in `MODULES`
(registration is explicit: the worker imports exactly these modules)::

    from crossline.care.schedule import every

    @every(5)  # minutes; or a callable returning minutes, read each time (a setting)
    def send_visit_reminders(now: datetime) -> object:
        ...

Each job runs at most once per interval across ALL worker processes: before running, a worker
claims it with a conditional UPDATE on its `PeriodicRun` row (`last_run_at` older than the
interval), which exactly one worker wins. A job that raises is logged (its class name only) and
tried again at its next interval; the worker keeps going. Jobs must be safe to run twice in a
row anyway (the escalation sweep claims each alert step itself).

The built-in jobs (`crossline.care.periodic`): the escalation sweep every minute, and anchoring
the audit chain's head every `CROSSLINE_AUDIT_ANCHOR_EVERY_MINUTES` (default 15).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

logger = logging.getLogger(__name__)

# The modules that register periodic jobs; add yours here.
MODULES = ("crossline.care.periodic",)

Minutes = float | Callable[[], float]
JobFunction = Callable[[datetime], object]


@dataclass(frozen=True)
class Job:
    name: str
    minutes: Minutes
    run: JobFunction

    def interval(self) -> timedelta:
        minutes = self.minutes() if callable(self.minutes) else self.minutes
        return timedelta(minutes=minutes)


_JOBS: dict[str, Job] = {}


def every(minutes: Minutes, *, name: str | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register `func(now)` to run every `minutes` (a number, or a callable returning one)."""

    def register(func: JobFunction) -> JobFunction:
        key = name or f"{func.__module__}.{func.__qualname__}"
        _JOBS[key] = Job(key, minutes, func)
        return func

    return register


def jobs() -> list[Job]:
    for module in MODULES:
        importlib.import_module(module)
    return list(_JOBS.values())


def claim(job: Job, now: datetime) -> bool:
    """True for exactly one caller per interval, whichever worker process asks."""
    from crossline.care.models import PeriodicRun

    try:
        with transaction.atomic():
            PeriodicRun.objects.get_or_create(name=job.name)
    except IntegrityError:
        pass  # another worker created the row at the same moment
    due = Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - job.interval())
    return PeriodicRun.objects.filter(due, name=job.name).update(last_run_at=now) == 1


def run_due(now: datetime) -> list[str]:
    """Run every job that is due and that this worker claims; the names of those run."""
    ran = []
    for job in jobs():
        if not claim(job, now):
            continue
        try:
            job.run(now)
        except Exception as exc:  # one failing job must not stop the others
            logger.error("periodic job %s failed: %s", job.name, type(exc).__name__)
        ran.append(job.name)
    return ran
