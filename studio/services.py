"""Jobs: submit, run and cancel calls to the Images API."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from gallery.models import Image, InputImage
from gallery.services import FileLedger, ImageOrigin, image_ingest, image_prepare, input_image_create
from gallery.storage import stored_names
from imageapi import pricing
from imageapi.client import GeneratedImage, ImageResult, InputFile, PartialImage
from imageapi.errors import ImageAPIError
from imageapi.params import ImageInfo
from imageapi.pricing import Usage
from teams.models import Space
from teams.services import personal_space

from . import pacing, pricebook, spending
from .images_client import get_images_client
from .models import Job, JobInput
from .safety import safety_identifier

logger = logging.getLogger(__name__)

PROGRESS_STARTED = 5
PROGRESS_STREAM_SPAN = 85  # partial previews move the bar from 5% up to 90%
UNEXPECTED_ERROR_MESSAGE = "Something went wrong on our side while running this job. Please try again."
CANCELLED_RUNNING_MESSAGE = "Cancelled while the call was running: it may still be billed."
RECEIPT_UNREADABLE_MESSAGE = ("The images were received, but could not be read back to store them. "
                              "Please submit the job again.")
RECEIPTS_FOLDER = "receipts"

# The worker (and thread) running a job: it owns the job's lease while it runs it. Code that
# runs a job outside a worker (tests, the bench) holds the lease as "inline".
LEASE_OWNER: ContextVar[str] = ContextVar("studio_lease_owner", default="inline")

# How a job is put on the task queue, given its primary key: `studio.tasks.job_enqueue`. The
# tasks import these services, never the reverse, so callers pass it in.
Enqueue = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    """An image or mask the user sent, already checked by the form. ``data`` is bytes or a file
    (an upload spooled to disk, a stored image), stored a chunk at a time."""

    data: bytes | File
    info: ImageInfo
    name: str = ""
    source_image: Image | None = None
    stored: InputImage | None = None  # already kept from an earlier edit: reused, not copied


class JobCancelled(Exception):
    """The job was cancelled (or taken from this worker) while it ran."""


def _queue_on_commit(job: Job, enqueue: Enqueue | None) -> None:
    if enqueue is not None:
        transaction.on_commit(lambda: enqueue(job.pk))


def _existing_submit(user: Any, submit_key: str) -> Job | None:
    return Job.objects.filter(created_by=user, submit_key=submit_key).first() if submit_key else None


def _reserve(*, user: Any, space: Space, request: dict[str, Any],
             input_images: Sequence[tuple[int, int]] = ()) -> dict[str, Any]:
    """The job's price (the book's entry valid now) and its upper-end cost held against every
    budget that applies, as the job's fields; or raise ``spending.BudgetRefused`` (the job is not
    saved and never reaches the API)."""
    now = timezone.now()  # the job's creation: the entry valid then prices it, even across midnight
    entry = pricebook.price_entry_for(model=request["model"], at=now)
    amount = spending.job_reservation(request=request, entry=entry, input_images=input_images)
    spending.budget_reserve(user=user, space=space, amount=amount, model=request["model"])
    return {"created_at": now, "price_entry": entry, "price_unknown": entry is None,
            "reserved_usd": amount or Decimal(0)}


def job_submit_generation(
    *, user: Any, request: dict[str, Any], space: Space | None = None, submit_key: str = "",
    enqueue: Enqueue | None = None,
) -> Job:
    """Save a generation job and queue it with ``enqueue`` once the transaction commits. ``space``
    (checked by the caller) is where the images go; the user's personal space by default. A
    second submit with the same ``submit_key`` returns the first one's job."""
    if existing := _existing_submit(user, submit_key):
        return existing
    try:
        with transaction.atomic():
            space = space or personal_space(user=user)
            priced = _reserve(user=user, space=space, request=request)
            job = Job.objects.create(
                created_by=user, space=space, kind=Job.Kind.GENERATE,
                model=request["model"], prompt=request["prompt"], request=request, submit_key=submit_key, **priced,
            )
            _queue_on_commit(job, enqueue)
    except IntegrityError:
        # A concurrent POST of the same form won the race: its job is the answer.
        if existing := _existing_submit(user, submit_key):
            return existing
        raise
    return job


def job_submit_edit(
    *, user: Any, request: dict[str, Any], images: Sequence[Upload], mask: Upload | None,
    space: Space | None = None, submit_key: str = "", enqueue: Enqueue | None = None,
) -> Job:
    """Store the inputs and the mask, save an edit job and queue it; on any failure no row
    and no file is left behind. A second submit with the same ``submit_key`` returns the first
    one's job."""
    if existing := _existing_submit(user, submit_key):
        return existing
    ledger = FileLedger()
    try:
        with transaction.atomic():
            space = space or personal_space(user=user)
            priced = _reserve(user=user, space=space, request=request,
                              input_images=[(upload.info.width, upload.info.height) for upload in images])
            stored = [_stored(upload, user=user, role=InputImage.Role.IMAGE, ledger=ledger) for upload in images]
            stored_mask = _stored(mask, user=user, role=InputImage.Role.MASK, ledger=ledger) if mask else None
            job = Job.objects.create(
                created_by=user, space=space, kind=Job.Kind.EDIT,
                model=request["model"], prompt=request["prompt"],
                request=request, mask=stored_mask, submit_key=submit_key, **priced,
            )
            JobInput.objects.bulk_create(
                JobInput(job=job, input_image=input_image, position=position)
                for position, input_image in enumerate(stored)
            )
            _queue_on_commit(job, enqueue)
    except IntegrityError:
        ledger.discard_all()
        if existing := _existing_submit(user, submit_key):
            return existing
        raise
    except BaseException:
        ledger.discard_all()
        raise
    return job


def _stored(upload: Upload, *, user: Any, role: str, ledger: FileLedger) -> InputImage:
    if upload.stored is not None:
        return upload.stored
    return input_image_create(created_by=user, data=upload.data, info=upload.info, role=role,
                              original_name=upload.name, source_image=upload.source_image, ledger=ledger)


_LEASE_CLEARED = {"lease_owner": "", "lease_expires_at": None, "retry_at": None}


def job_cancel(*, job: Job) -> bool:
    """Cancel a job in any state but ended: a queued one at once; a running one (its worker alive
    or gone) is marked cancelled at once too, and its worker stops waiting for it (the call it
    made may still be billed). False when the job had already ended."""
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now, **_LEASE_CLEARED
    ):
        return True
    with transaction.atomic():
        running = Job.objects.select_for_update().filter(pk=job.pk, status=Job.Status.RUNNING).first()
        if running is None:
            return False
        preview = running.preview.name if running.preview else ""
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now, preview="",
            error_message=CANCELLED_RUNNING_MESSAGE, **_LEASE_CLEARED,
        )
        _delete_on_commit(preview)
    return True


# -- running a job ---------------------------------------------------------------------------


def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.STUDIO_JOB_LEASE_SECONDS)


def _retrying(write: Callable[[], T], *, what: str, job_id: int, tries: int = 5) -> T:
    """Run a database write, again when the database was briefly unreachable: a job's final
    write must not be lost to a blip, or the job would stay running."""
    for attempt in range(tries):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if attempt == tries - 1 or connection.in_atomic_block:
                raise
            logger.warning("job %s: %s failed (database unreachable?); trying again", job_id, what, exc_info=True)
            connection.close()  # a broken connection is not reused
            time.sleep(min(0.2 * 2 ** attempt, 3.0))
    raise AssertionError("unreachable")  # pragma: no cover


def job_run(*, job_id: int) -> None:
    """Run one job: call the API, keep its answer as a receipt, store every image, record usage
    and cost. Whatever happens, the job does not stay running: an unexpected error is logged
    with the job's id and fails the job.

    The database connection is released during the API call (which can take minutes), so a
    worker can keep many jobs in flight without holding as many connections.
    """
    owner = LEASE_OWNER.get()
    job = _retrying(lambda: _claim(job_id, owner), what="claiming", job_id=job_id)
    if job is None:
        return
    try:
        _run_claimed(job, owner)
    except Exception:
        logger.exception("job %s failed unexpectedly", job.pk)
        _retrying(lambda: _end(job, owner, status=Job.Status.FAILED, error_message=UNEXPECTED_ERROR_MESSAGE,
                               error_code="internal"), what="recording the failure", job_id=job.pk)


def _claim(job_id: int, owner: str) -> Job | None:
    with transaction.atomic():
        # Its creator, space and price come along (the run reads each): three queries fewer a job.
        job = (Job.objects.select_for_update(of=("self",)).select_related("created_by", "space", "price_entry")
               .filter(pk=job_id).first())
        if job is None or job.status != Job.Status.QUEUED:
            return None
        if job.cancel_requested:
            Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
            return None
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.progress = PROGRESS_STARTED
        job.attempts += 1
        job.lease_owner = owner
        job.lease_expires_at = _lease_until()
        job.retry_at = None
        job.save(update_fields=["status", "started_at", "progress", "attempts", "lease_owner",
                                "lease_expires_at", "retry_at"])
    return job


def _run_claimed(job: Job, owner: str) -> None:
    if job.receipt:
        # An earlier attempt got the API's answer but stopped before storing it: store it now,
        # without calling (and paying) again.
        result = _receipt_load(job)
        if result is None:
            _end(job, owner, status=Job.Status.FAILED, error_message=RECEIPT_UNREADABLE_MESSAGE,
                 error_code="receipt_unreadable")
            return
    else:
        images = [
            InputFile(link.input_image.original_name or f"image-{link.position}.{link.input_image.format}",
                      _read(link.input_image), link.input_image.content_type)
            for link in _input_links(job)
        ]
        mask = InputFile("mask.png", _read(job.mask), "image/png") if job.mask else None
        _mine(job, owner).update(calls=F("calls") + 1)
        _release_connection()
        try:
            result = _call_api(job, images, mask, owner)
        except JobCancelled:
            _end(job, owner, status=Job.Status.CANCELLED)
            return
        except ImageAPIError as error:
            logger.info("job %s failed: %s %s (request %s)", job.pk, error.status, error.code, error.request_id)
            _paced_by(error)
            failure = {"error_message": error.message, "error_code": error.code or "",
                       "error_param": error.param or "", "request_id": error.request_id or ""}
            _retrying(lambda: _end(job, owner, status=Job.Status.FAILED, **failure),
                      what="recording the failure", job_id=job.pk)
            return
        pacing.pace_recover(images=len(result.images))
        if not _receipt_save(job, result, owner):
            return
    try:
        _complete(job, result, owner)
    except Exception:
        # The call was made and paid for; its usage and cost are on the job already (receipt).
        logger.exception("job %s: storing its images failed", job.pk)
        _retrying(lambda: _end(job, owner, status=Job.Status.FAILED, error_message=UNEXPECTED_ERROR_MESSAGE,
                               error_code="internal", **_paid(job, result)),
                  what="recording the failure", job_id=job.pk)


def _cost(job: Job, usage: Usage) -> Decimal | None:
    """What the call cost at the price the job recorded at submit (``None``: price unknown)."""
    return pricebook.cost_usd(entry=job.price_entry, usage=usage)


def _shares(cost: Decimal | None, parts: int) -> list[Decimal | None]:
    """Each image's share of the call's cost; unknown for each when the cost is."""
    return [None] * parts if cost is None else list(pricing.split_cost(cost, parts))


def _paid(job: Job, result: ImageResult) -> dict[str, Any]:
    return {"usage": result.usage.as_api(), "cost_usd": _cost(job, result.usage),
            "request_id": result.request_id or "", "latency_ms": result.latency_ms}


def _input_links(job: Job) -> list[JobInput]:
    """An edit's input images; a generation has none, and asks no query for them."""
    return list(job.job_inputs.select_related("input_image")) if job.kind == Job.Kind.EDIT else []


def _read(input_image: InputImage) -> bytes:
    with input_image.file.open("rb") as handle:
        return handle.read()


def _release_connection() -> None:
    # Outside a transaction only: tests run inside one, and closing it there would end it.
    if not connection.in_atomic_block:
        connection.close()


def _mine(job: Job, owner: str):
    """The job's row while this worker still holds it: every write of a running job goes through
    this, so a job cancelled or recovered by another worker is never written by this one."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_owner=owner)


def _paced_by(error: ImageAPIError) -> None:
    """A rate-limit 429 slows the shared pace down (when STUDIO_IMAGES_PER_MINUTE is set)."""
    if pacing.is_rate_limit(error) and pacing.pace_slow_down():
        logger.warning("The Images API answered 429 (%s): slowing the pace to %d images a minute.",
                       error.code, pacing.pace_state().per_minute)


def _call_api(job: Job, images: list[InputFile], mask: InputFile | None, owner: str) -> ImageResult:
    client = get_images_client()

    def on_retry(attempt: int, error: ImageAPIError, delay: float) -> None:
        logger.info("job %s: retry %s in %.1fs after %s", job.pk, attempt, delay, error.status)
        _paced_by(error)
        retry_at = timezone.now() + timedelta(seconds=delay)
        if not _mine(job, owner).update(retry_at=retry_at, calls=F("calls") + 1):
            raise JobCancelled
        _release_connection()

    # Added at call time, so the stored request (copied to images, remixed) never carries it.
    params = {**job.request, "safety_identifier": safety_identifier(user_id=job.created_by_id)}
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
                _record_partial(job, event, owner)
            else:
                return event
    finally:
        stream.close()
    raise ImageAPIError(message="The Images API's stream ended without a result.")


def _record_partial(job: Job, partial: PartialImage, owner: str) -> None:
    old_preview = job.preview.name if job.preview else ""
    job.preview.save(f"job-{job.pk}-partial-{partial.partial_image_index}.{partial.format}",
                     ContentFile(partial.data), save=False)
    job.partials_received += 1
    steps = job.partial_images + 1
    job.progress = PROGRESS_STARTED + PROGRESS_STREAM_SPAN * min(job.partials_received, steps) // steps
    updated = _mine(job, owner).update(
        preview=job.preview.name, partials_received=job.partials_received, progress=job.progress, retry_at=None,
    )
    if not updated:  # cancelled meanwhile: this preview is nobody's
        job.preview.storage.delete(job.preview.name)
        job.preview = old_preview
        raise JobCancelled
    if old_preview:
        job.preview.storage.delete(old_preview)
    _release_connection()


# -- receipts: the API's answer, durable before the ingest -----------------------------------


def _receipt_save(job: Job, result: ImageResult, owner: str) -> bool:
    """Keep the answer (image bytes in storage, the rest on the row) and the job's usage and cost,
    before the slower ingest. False when the job is no longer this worker's (cancelled while the
    call ran): the call's usage and cost are kept on it all the same."""
    paid = _paid(job, result)
    names: list[str] = []
    receipt: dict[str, Any] | None = None
    try:
        for image in result.images:
            extension = "jpg" if image.format == "jpeg" else image.format
            names.append(default_storage.save(f"{RECEIPTS_FOLDER}/job-{job.pk}/{uuid.uuid4().hex}.{extension}",
                                              ContentFile(image.data)))
        receipt = {
            "images": [{"name": name, "format": image.format, "index": image.index}
                       for name, image in zip(names, result.images, strict=True)],
            "usage": result.usage.as_api(), "size": result.size, "quality": result.quality,
            "background": result.background, "output_format": result.output_format, "created": result.created,
            "request_id": result.request_id, "latency_ms": result.latency_ms,
        }
    except Exception:
        # Storage trouble: go on from memory; the ingest below will likely fail and say so.
        logger.exception("job %s: could not keep the API's answer as a receipt", job.pk)
        _delete_files(names)
        names = []
    updated = _retrying(lambda: _mine(job, owner).update(receipt=receipt, retry_at=None, **paid),
                        what="keeping the receipt", job_id=job.pk)
    if updated:
        job.receipt = receipt
        return True
    _retrying(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.CANCELLED, cost_usd__isnull=True)
              .update(**paid), what="recording the cost", job_id=job.pk)
    _delete_files(names)
    logger.info("job %s ended while its call ran; its usage and cost are kept", job.pk)
    return False


def _receipt_names(receipt: dict[str, Any] | None) -> list[str]:
    return [item["name"] for item in (receipt or {}).get("images", [])]


def _receipt_load(job: Job) -> ImageResult | None:
    receipt = job.receipt or {}
    images = []
    try:
        for item in receipt["images"]:
            with default_storage.open(item["name"], "rb") as handle:
                images.append(GeneratedImage(data=handle.read(), format=item["format"], index=item["index"]))
    except (OSError, KeyError, TypeError):
        logger.exception("job %s: its receipt could not be read", job.pk)
        return None
    logger.info("job %s: storing the images of an earlier attempt's answer (request %s)",
                job.pk, receipt.get("request_id"))
    return ImageResult(
        images=images, usage=Usage.from_api(receipt.get("usage")), size=receipt.get("size"),
        quality=receipt.get("quality"), background=receipt.get("background"),
        output_format=receipt.get("output_format") or "", created=receipt.get("created"),
        request_id=receipt.get("request_id"), latency_ms=int(receipt.get("latency_ms") or 0),
    )


def _complete(job: Job, result: ImageResult, owner: str) -> None:
    cost = _cost(job, result.usage)
    inputs = tuple(link.input_image for link in _input_links(job))
    origin = ImageOrigin(
        created_by=job.created_by, space=job.space, job=job, request=job.request, model=job.model,
        size=result.size or "", quality=result.quality or "", background=result.background or "",
        usage=result.usage.as_api(), request_id=result.request_id or "", latency_ms=result.latency_ms,
        inputs=inputs, mask=job.mask,
    )
    ledger = FileLedger()
    try:
        # Decoding, thumbnails and files before the transaction: its locks are held only for rows.
        prepared = [image_prepare(received=received, ledger=ledger) for received in result.images]
        with transaction.atomic():
            images = [
                image_ingest(received=ready.received, origin=origin, cost_usd=share, ledger=ledger, prepared=ready)
                for ready, share in zip(prepared, _shares(cost, len(prepared)), strict=True)
            ]
            action = AuditEvent.Action.EDITED if job.kind == Job.Kind.EDIT else AuditEvent.Action.GENERATED
            audit_record(actor=job.created_by, action=action, obj=job, space=job.space,
                         summary=f"{action.label.lower()} {len(images)} image{pluralize(len(images))}: "
                                 + ", ".join(f"#{image.pk}" for image in images))
            # Last, so the job's row is locked only for the commit; if the job was cancelled or
            # taken back meanwhile, nothing of this is kept.
            if not _end(job, owner, status=Job.Status.SUCCEEDED, **_paid(job, result)):
                raise _NoLongerHeld
    except _NoLongerHeld:
        ledger.discard_all()
        logger.info("job %s ended before its images were stored; they are not kept", job.pk)
    except BaseException:
        ledger.discard_all()
        raise


class _NoLongerHeld(Exception):
    """The job was cancelled or taken back while its images were being stored."""


def _end(job: Job, owner: str, *, status: str, **fields: Any) -> bool:
    """Record how a job ended, if this worker still holds it; drop its preview and receipt (the
    images replace them). False when the job had already ended (cancelled, or recovered)."""
    current = Job.objects.filter(pk=job.pk).values("preview", "receipt").first() or {}
    values = {"status": status, "finished_at": timezone.now(), "preview": "", "receipt": None,
              **_LEASE_CLEARED, **fields}
    if status == Job.Status.SUCCEEDED:
        values["progress"] = 100
    if not _mine(job, owner).update(**values):
        return False
    for name, value in values.items():
        setattr(job, name, value)
    _delete_on_commit(current.get("preview") or "", *_receipt_names(current.get("receipt")))
    return True


def _delete_files(names: Sequence[str]) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:
                logger.warning("could not delete %s; storage_check will find it", name, exc_info=True)


def _delete_on_commit(*names: str) -> None:
    names = tuple(name for name in names if name)
    if names:
        transaction.on_commit(lambda: _delete_files(names))


# -- leases: recovering the jobs of a worker that stopped ------------------------------------

RECEIPT_EXTRA_ATTEMPTS = 2
INTERRUPTED_FAILED_MESSAGE = (
    "The worker running this job stopped {attempts} times, so it was not tried again. "
    "Each attempt may have been billed. Please submit it again."
)


def jobs_renew_leases(*, owner: str, job_ids: Sequence[int] | None = None) -> int:
    """Extend the leases of the jobs ``owner`` runs (its heartbeat), only ``job_ids`` if given (the
    jobs it still has a thread for); returns how many."""
    jobs = Job.objects.filter(status=Job.Status.RUNNING, lease_owner=owner)
    if job_ids is not None:
        jobs = jobs.filter(pk__in=list(job_ids))
    return jobs.update(lease_expires_at=_lease_until())


def job_ensure_ended(*, job_id: int, owner: str) -> bool:
    """After a job's thread is done: a job it left running (its last write failed) fails now.
    True when it had to."""
    job = Job(pk=job_id)
    if not _mine(job, owner).exists():
        return False
    logger.error("job %s: its thread ended but the job was still running; marking it failed", job_id)
    return _retrying(lambda: _end(job, owner, status=Job.Status.FAILED, error_message=UNEXPECTED_ERROR_MESSAGE,
                                  error_code="internal"), what="recording the failure", job_id=job_id)


@dataclass
class Recovery:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def job_ids(self) -> list[int]:
        return self.requeued + self.failed


def jobs_recover(*, enqueue: Enqueue, now: datetime | None = None, limit: int = 100) -> Recovery:
    """Take back the running jobs whose lease ran out (their worker stopped): queue each for
    another attempt, or fail it past STUDIO_JOB_MAX_ATTEMPTS. Safe to run from many workers at
    once: each job is taken back by one of them."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.STUDIO_JOB_LEASE_SECONDS)
    expired = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, started_at__lt=now - lease)
    )
    recovery = Recovery()
    for pk in list(expired.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            job = expired.select_for_update(skip_locked=True).filter(pk=pk).first()
            if job is None:
                continue  # another worker is on it, or it ended meanwhile
            if _requeue_or_fail(job, enqueue=enqueue, release=False):
                recovery.requeued.append(job.pk)
            else:
                recovery.failed.append(job.pk)
    if recovery.job_ids:
        logger.warning("Recovered %d job(s) whose worker stopped: %d queued again, %d failed past %d attempts.",
                       len(recovery.job_ids), len(recovery.requeued), len(recovery.failed),
                       settings.STUDIO_JOB_MAX_ATTEMPTS)
    return recovery


def jobs_release(*, owner: str, enqueue: Enqueue) -> list[int]:
    """Give the jobs ``owner`` still runs back to the queue (a clean shutdown): not failed, and the
    attempt does not count against the limit. Returns their ids."""
    released = []
    for pk in list(Job.objects.filter(status=Job.Status.RUNNING, lease_owner=owner).values_list("pk", flat=True)):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=pk, status=Job.Status.RUNNING, lease_owner=owner).first()
            if job is not None:
                _requeue_or_fail(job, enqueue=enqueue, release=True)
                released.append(pk)
    return released


def _requeue_or_fail(job: Job, *, enqueue: Enqueue, release: bool) -> bool:
    """Inside a transaction holding the job's row. True when queued again."""
    # The call of the attempt cut short may have been made, and billed (the card says so).
    common = {"preview": "", "partials_received": 0, "interrupted": F("interrupted") + 1, **_LEASE_CLEARED}
    _delete_on_commit(job.preview.name if job.preview else "")
    # A paid answer waiting in a receipt gets two more tries: storing it costs nothing.
    limit = settings.STUDIO_JOB_MAX_ATTEMPTS + (RECEIPT_EXTRA_ATTEMPTS if job.receipt else 0)
    if release or job.attempts < limit:
        attempts = F("attempts") - 1 if release and job.attempts > 0 else F("attempts")
        Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, progress=0, attempts=attempts, **common)
        # In this transaction, not on commit: the queue is in the same database, so the job and its
        # task commit together, and a worker killed right after the commit cannot lose the job.
        enqueue(job.pk)
        return True
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED, finished_at=timezone.now(), error_code="interrupted", receipt=None,
        error_message=INTERRUPTED_FAILED_MESSAGE.format(attempts=job.attempts), **common,
    )
    _delete_on_commit(*_receipt_names(job.receipt))
    return False


# -- storage: files and rows that agree ------------------------------------------------------

STORAGE_FOLDERS = ("images", "thumbs", "inputs", "previews", RECEIPTS_FOLDER)
ORPHAN_AGE = timedelta(hours=1)  # younger files may belong to a row about to commit
STALE_PREVIEW_AGE = timedelta(minutes=1)


@dataclass
class StorageReport:
    orphans: list[str] = field(default_factory=list)  # files no row points at
    missing: list[str] = field(default_factory=list)  # "Image 12: images/…" rows whose file is gone
    stale_previews: list[str] = field(default_factory=list)  # previews of jobs that ended
    removed: int = 0
    marked: int = 0

    @property
    def problems(self) -> int:
        return len(self.orphans) + len(self.missing) + len(self.stale_previews)

    def summary(self) -> str:
        text = (f"{len(self.orphans)} orphan file(s), {len(self.missing)} row(s) whose file is missing, "
                f"{len(self.stale_previews)} stale preview(s)")
        if self.removed or self.marked:
            text += f"; removed {self.removed} file(s), marked {self.marked} row(s)"
        return text


def _stored_names(folder: str) -> list[str]:
    return list(stored_names(default_storage, folder)) if default_storage.exists(folder) else []


def _older_than(name: str, cutoff: datetime) -> bool:
    try:
        return default_storage.get_modified_time(name) < cutoff
    except (OSError, NotImplementedError):
        return False  # gone meanwhile


def storage_check(*, repair: bool = False, orphan_age: timedelta = ORPHAN_AGE,
                  now: datetime | None = None) -> StorageReport:
    """Compare storage with the rows: files no row points at (orphans, older than ``orphan_age``),
    rows whose file is gone, and previews of jobs that ended. ``repair`` deletes the orphans and
    stale previews and marks images whose file is missing (``Image.file_missing``)."""
    now = now or timezone.now()
    report = StorageReport()
    stored = {name for folder in STORAGE_FOLDERS for name in _stored_names(folder)}

    referenced: set[str] = set()
    missing_images: set[int] = set()
    for pk, file, thumbnail in Image.objects.values_list("pk", "file", "thumbnail").iterator(chunk_size=2000):
        referenced.update((file, thumbnail))
        for name in (file, thumbnail):
            if name and name not in stored and not default_storage.exists(name):
                report.missing.append(f"Image {pk}: {name}")
                missing_images.add(pk)
    for pk, file in InputImage.objects.values_list("pk", "file").iterator(chunk_size=2000):
        referenced.add(file)
        if file and file not in stored and not default_storage.exists(file):
            report.missing.append(f"InputImage {pk}: {file}")
    live_previews = set(Job.objects.filter(status__in=Job.ACTIVE_STATUSES).exclude(preview="")
                        .values_list("preview", flat=True))
    for receipt in Job.objects.filter(receipt__isnull=False).values_list("receipt", flat=True):
        referenced.update(_receipt_names(receipt))
    ended_with_preview = Job.objects.exclude(status__in=Job.ACTIVE_STATUSES).exclude(preview="")

    orphan_cutoff, preview_cutoff = now - orphan_age, now - min(orphan_age, STALE_PREVIEW_AGE)
    for name in sorted(stored - referenced - live_previews):
        if name.startswith("previews/"):
            if _older_than(name, preview_cutoff):
                report.stale_previews.append(name)
        elif _older_than(name, orphan_cutoff):
            report.orphans.append(name)
    report.stale_previews += [f"Job {pk}: {name}" for pk, name in ended_with_preview.values_list("pk", "preview")]

    if repair:
        for name in report.orphans + [name for name in report.stale_previews if not name.startswith("Job ")]:
            _delete_files([name])
            report.removed += 1
        ended_with_preview.update(preview="")
        report.marked = Image.objects.filter(pk__in=missing_images, file_missing=False).update(file_missing=True)
    return report
