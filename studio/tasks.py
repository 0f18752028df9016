"""Background tasks: thin wrappers that pass primary keys to a service."""

try:  # Django 6 ships the tasks framework; 5.2 uses the django-tasks backport of it.
    from django.tasks import task
except ImportError:
    from django_tasks import task

from . import services


@task()
def run_job(*, job_id: int) -> None:
    services.job_run(job_id=job_id)
