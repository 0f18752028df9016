from argparse import ArgumentParser

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME

from studio.worker import ConcurrentWorker


class Command(BaseCommand):
    help = "Run the task worker: runs queued jobs, several at once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--concurrency", type=int, default=settings.STUDIO_WORKER_CONCURRENCY,
                            help="Jobs in flight at once (default: %(default)s).")
        # A queued job wakes the worker at once (studio.wakeup: NOTIFY on PostgreSQL, a commit seen
        # by SQLite's data_version): this poll is only for what no commit announces.
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds between looks at the queue when nothing wakes the worker "
                                 "(default: %(default)s).")
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--queue-name", default=DEFAULT_TASK_QUEUE_NAME)
        parser.add_argument("--worker-id", default=None)
        parser.add_argument("--shutdown-grace", type=float, default=settings.STUDIO_SHUTDOWN_GRACE,
                            help="Seconds SIGTERM gives calls in flight before their jobs go back to the "
                                 "queue (default: %(default)s).")

    def handle(self, *, concurrency: int, interval: float, batch: bool, max_tasks: int | None,
               queue_name: str, worker_id: str | None, shutdown_grace: float,
               **options: object) -> None:
        if concurrency < 1:
            self.stderr.write("--concurrency must be at least 1")
            raise SystemExit(2)
        worker = ConcurrentWorker(
            concurrency=concurrency, shutdown_grace=shutdown_grace,
            queue_names=queue_name.split(","), interval=interval, batch=batch,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=False, max_tasks=max_tasks,
            worker_id=worker_id or get_random_string(32), excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
