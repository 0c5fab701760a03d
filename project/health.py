"""``/healthz`` and ``/readyz``: is the process alive, and can it serve (docs/operations.md).

- ``/healthz`` touches nothing: 200 while the process answers. A supervisor restarts a
  process that stops answering it.
- ``/readyz`` (django-health-check) checks the database, the cache, the task queue and
  that every migration is applied; 200 ``{"status": "ok"}`` or 503 with the names of the
  failing checks. A load balancer takes a host out of rotation while it fails.

Both are cheap enough to poll every second: ``SELECT 1``, a cache write and read, a task
queue ping (``SELECT 1`` on the task table, or a Redis ``PING``), and the migration plan,
read from disk only until it is found complete (a deploy restarts the process). The
answers name checks, never hosts, ports, users or error texts: those go to the log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from typing import Any, ClassVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from health_check import checks
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

logger = logging.getLogger("paylinks.health")

#: A dependency that does not answer within this long counts as down.
CHECK_SECONDS = datetime.timedelta(seconds=2)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


class _OnTheRequestThread:
    """A synchronous check run on the request's own thread (``sync_to_async``'s default),
    so it uses that thread's database connection instead of opening one per pool thread."""

    def run_sync(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        await sync_to_async(self.run_sync)()


@dataclasses.dataclass
class Database(_OnTheRequestThread, checks.Database):
    timeout: ClassVar[datetime.timedelta] = CHECK_SECONDS

    def run_sync(self) -> None:
        checks.Database.run(self)


@dataclasses.dataclass
class Cache(checks.Cache):
    key_prefix: str = dataclasses.field(default="paylinks-readyz", repr=False)
    timeout: datetime.timedelta = dataclasses.field(default=CHECK_SECONDS, repr=False)


@dataclasses.dataclass
class TaskQueue(_OnTheRequestThread, HealthCheck):
    """The configured task backend can be reached: its table, or its Redis."""

    timeout: ClassVar[datetime.timedelta] = CHECK_SECONDS

    def run_sync(self) -> None:
        backend = settings.TASK_BACKEND
        try:
            if backend == "rq":
                import django_rq  # only installed with the RQ backend

                django_rq.get_connection("default").ping()
            elif backend == "database":
                from django_tasks_db.models import DBTaskResult

                DBTaskResult.objects.only("pk").first()
        except Exception as exc:
            raise ServiceUnavailable(exc.__class__.__name__) from exc


@dataclasses.dataclass
class Migrations(_OnTheRequestThread, HealthCheck):
    """Every migration in the code is applied to the database.

    Reading the migration files costs tens of milliseconds, so once the plan is found
    empty this process never reads them again: migrations only change with a deploy,
    and a deploy starts new processes.
    """

    timeout: ClassVar[datetime.timedelta] = CHECK_SECONDS
    complete: ClassVar[bool] = False

    def run_sync(self) -> None:
        if Migrations.complete:
            return
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception as exc:
            raise ServiceUnavailable(exc.__class__.__name__) from exc
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migrations not applied")
        Migrations.complete = True


CHECK_NAMES = {Database: "database", Cache: "cache", TaskQueue: "tasks", Migrations: "migrations"}


class ReadinessView(HealthCheckView):
    checks = tuple(CHECK_NAMES)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        failing = {
            CHECK_NAMES[type(result.check)]: str(result.error)
            for result in self.results
            if result.error
        }
        if not failing:
            return JsonResponse({"status": "ok"})
        logger.warning(
            "Not ready: %s",
            ", ".join(f"{name} ({error})" for name, error in failing.items()),
        )
        return JsonResponse({"status": "unavailable", "failing": sorted(failing)}, status=503)


readyz = ReadinessView.as_view()
