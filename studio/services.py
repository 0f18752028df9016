"""Jobs: submit, run and cancel calls to the Images API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.template.defaultfilters import pluralize
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from gallery.models import Image, InputImage
from gallery.services import FileLedger, ReceivedImage, image_ingest, input_image_create
from imageapi import pricing
from imageapi.client import ImageResult, InputFile, PartialImage
from imageapi.errors import ImageAPIError
from imageapi.params import ImageInfo
from teams.models import Space
from teams.services import personal_space

from .images_client import get_images_client
from .models import Job, JobInput

logger = logging.getLogger(__name__)

PROGRESS_STARTED = 5
PROGRESS_STREAM_SPAN = 85  # partial previews move the bar from 5% up to 90%
UNEXPECTED_ERROR_MESSAGE = "Something went wrong on our side while running this job. Please try again."


@dataclass(frozen=True)
class Upload:
    """An image or mask the user sent, already read and checked by the form."""

    data: bytes
    info: ImageInfo
    name: str = ""
    source_image: Image | None = None
    stored: InputImage | None = None  # already kept from an earlier edit: reused, not copied


class JobCancelled(Exception):
    """The user cancelled the job while it ran."""


def _enqueue(job: Job) -> None:
    from .tasks import run_job  # tasks import services

    transaction.on_commit(lambda: run_job.enqueue(job_id=job.pk))


def job_submit_generation(*, user: Any, request: dict[str, Any], space: Space | None = None) -> Job:
    """Save a generation job and queue it once the transaction commits. ``space`` (checked by the
    caller) is where the images go; the user's personal space by default."""
    with transaction.atomic():
        job = Job.objects.create(
            created_by=user, space=space or personal_space(user=user), kind=Job.Kind.GENERATE, model=request["model"],
            prompt=request["prompt"], request=request,
        )
        _enqueue(job)
    return job


def job_submit_edit(
    *, user: Any, request: dict[str, Any], images: Sequence[Upload], mask: Upload | None,
    space: Space | None = None,
) -> Job:
    """Store the inputs and the mask, save an edit job and queue it; on any failure no row
    and no file is left behind."""
    ledger = FileLedger()
    try:
        with transaction.atomic():
            stored = [_stored(upload, user=user, role=InputImage.Role.IMAGE, ledger=ledger) for upload in images]
            stored_mask = _stored(mask, user=user, role=InputImage.Role.MASK, ledger=ledger) if mask else None
            job = Job.objects.create(
                created_by=user, space=space or personal_space(user=user), kind=Job.Kind.EDIT,
                model=request["model"], prompt=request["prompt"],
                request=request, mask=stored_mask,
            )
            JobInput.objects.bulk_create(
                JobInput(job=job, input_image=input_image, position=position)
                for position, input_image in enumerate(stored)
            )
            _enqueue(job)
    except BaseException:
        ledger.discard_all()
        raise
    return job


def _stored(upload: Upload, *, user: Any, role: str, ledger: FileLedger) -> InputImage:
    if upload.stored is not None:
        return upload.stored
    return input_image_create(created_by=user, data=upload.data, info=upload.info, role=role,
                              original_name=upload.name, source_image=upload.source_image, ledger=ledger)


def job_cancel(*, job: Job) -> bool:
    """Cancel a queued job at once; ask a running one to stop. False when it already ended."""
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now
    ):
        return True
    return bool(Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True))


def job_run(*, job_id: int) -> None:
    """Run one job: call the API, store every image, record usage and cost.

    The database connection is released during the API call (which can take minutes), so a
    worker can keep many jobs in flight without holding as many connections.
    """
    job = _claim(job_id)
    if job is None:
        return
    images = [
        InputFile(link.input_image.original_name or f"image-{link.position}.{link.input_image.format}",
                  _read(link.input_image), link.input_image.content_type)
        for link in job.job_inputs.select_related("input_image")
    ]
    mask = InputFile("mask.png", _read(job.mask), "image/png") if job.mask else None
    _release_connection()
    try:
        result = _call_api(job, images, mask)
    except JobCancelled:
        _finish(job, status=Job.Status.CANCELLED)
        return
    except ImageAPIError as error:
        logger.info("job %s failed: %s %s (request %s)", job.pk, error.status, error.code, error.request_id)
        _finish(job, status=Job.Status.FAILED, error_message=error.message, error_code=error.code or "",
                error_param=error.param or "", request_id=error.request_id or "")
        return
    except Exception:
        logger.exception("job %s failed unexpectedly", job.pk)
        _finish(job, status=Job.Status.FAILED, error_message=UNEXPECTED_ERROR_MESSAGE, error_code="internal")
        return
    try:
        _complete(job, result)
    except Exception:
        # The call was made and paid for: keep its usage and cost even though storing failed.
        logger.exception("job %s: storing its images failed", job.pk)
        _finish(job, status=Job.Status.FAILED, error_message=UNEXPECTED_ERROR_MESSAGE, error_code="internal",
                usage=result.usage.as_api(), cost_usd=pricing.cost_usd(result.usage, model=job.model),
                request_id=result.request_id or "", latency_ms=result.latency_ms)


def _claim(job_id: int) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return None
        if job.cancel_requested:
            _finish(job, status=Job.Status.CANCELLED)
            return None
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.progress = PROGRESS_STARTED
        job.attempts = F("attempts") + 1
        job.save(update_fields=["status", "started_at", "progress", "attempts"])
    job.refresh_from_db(fields=["attempts"])
    return job


def _read(input_image: InputImage) -> bytes:
    with input_image.file.open("rb") as handle:
        return handle.read()


def _release_connection() -> None:
    # Outside a transaction only: tests run inside one, and closing it there would end it.
    if not connection.in_atomic_block:
        connection.close()


def _call_api(job: Job, images: list[InputFile], mask: InputFile | None) -> ImageResult:
    client = get_images_client()

    def on_retry(attempt: int, error: ImageAPIError, delay: float) -> None:
        logger.info("job %s: retry %s in %.1fs after %s", job.pk, attempt, delay, error.status)
        Job.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
        _release_connection()

    params = dict(job.request)
    if job.kind == Job.Kind.EDIT:
        params.update(images=images, mask=mask)
    if not job.partial_images:
        call = client.edit if job.kind == Job.Kind.EDIT else client.generate
        return call(on_retry=on_retry, **params)

    stream = (client.edit_stream if job.kind == Job.Kind.EDIT else client.generate_stream)(
        on_retry=on_retry, **params
    )
    try:
        for event in stream:
            if isinstance(event, PartialImage):
                _record_partial(job, event)
            else:
                return event
    finally:
        stream.close()
    raise ImageAPIError(message="The Images API's stream ended without a result.")


def _record_partial(job: Job, partial: PartialImage) -> None:
    if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled
    old_preview = job.preview.name if job.preview else ""
    job.preview.save(f"job-{job.pk}-partial-{partial.partial_image_index}.{partial.format}",
                     ContentFile(partial.data), save=False)
    job.partials_received += 1
    steps = job.partial_images + 1
    job.progress = PROGRESS_STARTED + PROGRESS_STREAM_SPAN * min(job.partials_received, steps) // steps
    Job.objects.filter(pk=job.pk).update(
        preview=job.preview.name, partials_received=job.partials_received, progress=job.progress
    )
    if old_preview:
        job.preview.storage.delete(old_preview)
    _release_connection()


def _complete(job: Job, result: ImageResult) -> None:
    cost = pricing.cost_usd(result.usage, model=job.model)
    usage = result.usage.as_api()
    job.refresh_from_db(fields=["cancel_requested", "attempts"])
    if job.cancel_requested:
        # The call was paid for: keep what it cost, but the user no longer wants the images.
        _finish(job, status=Job.Status.CANCELLED, usage=usage, cost_usd=cost,
                request_id=result.request_id or "", latency_ms=result.latency_ms)
        return
    inputs = [link.input_image for link in job.job_inputs.select_related("input_image")]
    ledger = FileLedger()
    try:
        with transaction.atomic():
            images = []
            for received, share in zip(result.images, pricing.split_cost(cost, len(result.images)), strict=True):
                images.append(image_ingest(
                    created_by=job.created_by, space=job.space, job=job,
                    received=ReceivedImage(data=received.data, format=received.format, index=received.index),
                    request=job.request, model=job.model, size=result.size or "",
                    quality=result.quality or "", background=result.background or "", usage=usage,
                    cost_usd=share, request_id=result.request_id or "", latency_ms=result.latency_ms,
                    inputs=inputs, mask=job.mask, ledger=ledger,
                ))
            action = AuditEvent.Action.EDITED if job.kind == Job.Kind.EDIT else AuditEvent.Action.GENERATED
            audit_record(actor=job.created_by, action=action, obj=job, space=job.space,
                         summary=f"{action.label.lower()} {len(images)} image{pluralize(len(images))}: "
                                 + ", ".join(f"#{image.pk}" for image in images))
            _finish(job, status=Job.Status.SUCCEEDED, usage=usage, cost_usd=cost,
                    request_id=result.request_id or "", latency_ms=result.latency_ms)
    except BaseException:
        ledger.discard_all()
        raise


def _finish(job: Job, *, status: str, **fields: Any) -> None:
    """Record how a job ended and drop its partial preview: the images replace it."""
    preview = job.preview.name if job.preview else ""
    values = {"status": status, "finished_at": timezone.now(), "preview": "", **fields}
    if status == Job.Status.SUCCEEDED:
        values["progress"] = 100
    Job.objects.filter(pk=job.pk).update(**values)
    for name, value in values.items():
        setattr(job, name, value)
    if preview:
        transaction.on_commit(lambda: job.preview.storage.delete(preview))


ABANDONED_MESSAGE = "The worker stopped while this job was running. Please submit it again."


def jobs_fail_abandoned(*, older_than: timedelta) -> int:
    """Fail jobs left 'running' by a worker that died; returns how many."""
    cutoff = timezone.now() - older_than
    return Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=cutoff).update(
        status=Job.Status.FAILED, error_message=ABANDONED_MESSAGE, error_code="abandoned",
        finished_at=timezone.now(),
    )
