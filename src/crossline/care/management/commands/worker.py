"""`crossline worker`: run background tasks and the periodic jobs, in one process.

One loop, one thread: run every periodic job that is due (`crossline.care.schedule`: the
escalation sweep every minute, audit anchoring every 15 minutes, whatever other apps register),
then every queued task that is ready (django-tasks-db's worker, in batch mode), then wait
`--interval` seconds. Run as many workers as you like (several machines, one database): tasks are
claimed with row locks, periodic jobs once per interval between them, escalation steps once.

SIGTERM or SIGINT: the task in progress finishes, then the worker exits 0. A second signal
stops at once (exit 1; the interrupted task is marked failed).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from crossline.care import schedule

logger = logging.getLogger("crossline.worker")


class Command(BaseCommand):
    help = "Run background jobs: alert notifications and escalation, reminders, audit anchoring."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when idle (default 1)"
        )
        parser.add_argument(
            "--queue-name", default="*", help="queues to run, comma-separated (default: all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The tasks worker logs "no more tasks" on every idle pass in batch mode: keep it quiet.
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=True,  # drain what is ready, then come back here for the periodic jobs
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        stop, forced = threading.Event(), threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                logger.warning("worker: second %s, stopping now", signal.strsignal(signum))
                forced.set()
                sys.exit(1)  # the tasks worker records the interrupted task as failed
            logger.info("worker: %s, stopping after the current task", signal.strsignal(signum))
            stop.set()
            worker.running = False  # the tasks loop returns once its current task is done

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        names = ", ".join(job.name for job in schedule.jobs())
        logger.info("worker %s started (periodic jobs: %s)", worker.worker_id, names)
        while not stop.is_set():
            close_old_connections()
            schedule.run_due(timezone.now())
            if stop.is_set():
                break
            worker.run()
            stop.wait(options["interval"])
        close_old_connections()
        logger.info("worker %s stopped", worker.worker_id)
        if forced.is_set():
            sys.exit(1)
