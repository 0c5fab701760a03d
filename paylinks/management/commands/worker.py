"""Run the background worker for the configured task backend, plus the sweeper.

The sweeper runs in a thread beside the worker every ``PAYLINKS_SWEEP_SECONDS``: it
retries inbox events whose time has come, re-checks payments that should have moved,
and runs the sandbox's own clock (expiries, delayed settlements, webhook retries).
Several workers may run it at once: every step claims its rows before working on them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from paylinks.sweeper import sweep

logger = logging.getLogger("paylinks.worker")


def sweep_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            close_old_connections()
            counts = sweep()
            if any(counts.values()):
                logger.info("Sweep: %s", counts)
        except Exception:
            logger.exception("Sweep failed; trying again in %ss", interval)
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run the task worker (db_worker or rqworker) and the periodic sweeper."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-sweeper", action="store_true", help="Run tasks only.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["no_sweeper"] and settings.PAYLINKS_SWEEP_SECONDS > 0:
            thread = threading.Thread(
                target=sweep_forever,
                args=(settings.PAYLINKS_SWEEP_SECONDS, stop),
                name="paylinks-sweeper",
                daemon=True,
            )
            thread.start()
        backend = settings.TASK_BACKEND
        try:
            if backend == "database":
                call_command("db_worker", queue_name="*", interval=0.5)
            elif backend == "rq":
                # The scheduler moves deferred tasks (run_after) to the queue when due.
                call_command(
                    "rqworker", "default", job_class="django_tasks_rq.Job", with_scheduler=True
                )
            else:
                self.stderr.write(f"The {backend!r} backend runs tasks in-process; sweeping only.")
                stop.wait()
        finally:
            stop.set()
