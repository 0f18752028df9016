"""Background tasks: thin wrappers that pass primary keys to a service."""

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport of it.
    from django.tasks import task
except ImportError:
    from django_tasks import task

from . import services
from .logs import log_context


@task()
def run_job(*, job_id: int) -> None:
    with log_context(job_id=job_id):  # every log line of the run names the job
        services.job_run(job_id=job_id)
