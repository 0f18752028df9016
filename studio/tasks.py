"""Background tasks: thin wrappers that pass primary keys to a service.

This module imports the services, never the reverse: services that queue a job are given
``job_enqueue`` by their caller.
"""

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport of it.
    from django.tasks import task
except ImportError:
    from django_tasks import task

from . import services
from .logs import log_context
from .wakeup import notify_job_queued


@task()
def run_job(*, job_id: int) -> None:
    with log_context(job_id=job_id):  # every log line of the run names the job
        services.job_run(job_id=job_id)


def job_enqueue(job_id: int) -> None:
    """Put a job on the task queue (call it once the job's row is committed) and wake a worker."""
    run_job.enqueue(job_id=job_id)
    notify_job_queued()
