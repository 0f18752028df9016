from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from imageapi import catalogue


class PriceEntry(models.Model):
    """What one model costs from a date on: USD per 1M tokens, standard tier (the price book).

    An entry applies from 00:00 UTC on ``valid_from`` until the model's next entry. A job records
    the entry valid when it was submitted and is priced with it, so a new entry never changes
    what past jobs cost; to change a price, add an entry from the date it applies. A rate the
    model does not bill is empty. Seeded from the references (``studio.pricebook``)."""

    RATES = ("text_input", "text_cached_input", "image_input", "image_cached_input", "image_output", "text_output")

    model = models.CharField(max_length=64, help_text="A model id of the catalogue (imageapi/catalogue.py); "
                                                      "its dated snapshots share its prices.")
    valid_from = models.DateField(help_text="Applies from 00:00 UTC on this date on.")
    text_input = models.DecimalField("text in", max_digits=10, decimal_places=4, null=True, blank=True)
    text_cached_input = models.DecimalField("cached text in", max_digits=10, decimal_places=4, null=True, blank=True)
    image_input = models.DecimalField("image in", max_digits=10, decimal_places=4, null=True, blank=True)
    image_cached_input = models.DecimalField("cached image in", max_digits=10, decimal_places=4, null=True,
                                             blank=True)
    image_output = models.DecimalField("image out", max_digits=10, decimal_places=4)
    text_output = models.DecimalField("text out", max_digits=10, decimal_places=4, null=True, blank=True,
                                      help_text="Empty: not billed.")
    note = models.CharField(max_length=300, blank=True, help_text="Where the price comes from.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "-valid_from"]
        verbose_name_plural = "price book"
        constraints = [models.UniqueConstraint(fields=["model", "valid_from"], name="one_price_per_model_and_date")]

    def __str__(self) -> str:
        return f"{self.model} from {self.valid_from:%Y-%m-%d}"

    def clean(self) -> None:
        # The admin form calls this; field validators would need a migration for no change to the table.
        errors = {name: "A rate cannot be negative." for name in self.RATES
                  if (value := getattr(self, name)) is not None and value < 0}
        if self.model and catalogue.entry_for(self.model) is None:
            errors["model"] = (f"“{self.model}” is not in the catalogue (imageapi/catalogue.py): "
                               "add the model there first.")
        if errors:
            raise ValidationError(errors)


class Job(models.Model):
    """One call to the Images API, from the moment it is asked for to its result."""

    class Kind(models.TextChoices):
        GENERATE = "generate", "Generate"
        EDIT = "edit", "Edit"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    # Where the images go: the creator's personal space or a team they may generate into.
    space = models.ForeignKey("teams.Space", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENERATE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    model = models.CharField(max_length=64)
    prompt = models.TextField()
    # Every API parameter as sent, files excepted (they are `inputs` and `mask`).
    request = models.JSONField(default=dict)
    inputs = models.ManyToManyField("gallery.InputImage", through="JobInput", related_name="+")
    mask = models.ForeignKey("gallery.InputImage", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")

    progress = models.PositiveSmallIntegerField(default=0, help_text="0–100")
    partials_received = models.PositiveSmallIntegerField(default=0)
    preview = models.FileField(upload_to="previews/%Y/%m/", blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker took the job.")
    calls = models.PositiveSmallIntegerField(default=0, help_text="Requests sent to the API, retries included.")
    cancel_requested = models.BooleanField(default=False)
    # The lease: the worker running the job renews it while alive; any worker recovers a job
    # whose lease ran out (see services.jobs_recover).
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    interrupted = models.PositiveSmallIntegerField(default=0, help_text="Attempts cut short by a stopped worker.")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="When the client retries the call.")
    # The API's answer, kept (files in storage) before the slower ingest, so that a crash in
    # between is recovered without paying for a second call.
    receipt = models.JSONField(null=True, blank=True)
    # The one-time key of the form that made the job: a second POST of it returns this job.
    submit_key = models.CharField(max_length=64, blank=True)

    error_message = models.TextField(blank=True, help_text="Shown to the user as it is.")
    error_code = models.CharField(max_length=64, blank=True)
    error_param = models.CharField(max_length=64, blank=True)

    usage = models.JSONField(default=dict, blank=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    # The price book's entry valid at submit: the job is priced with it whenever it ends. None with
    # ``price_unknown``: the model had no price then, so ``cost_usd`` stays empty, never $0.
    price_entry = models.ForeignKey(PriceEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    price_unknown = models.BooleanField(default=False)
    # The most the job may cost, held against every budget that applies from submit until it
    # ends; then it counts at ``cost_usd`` (see ``studio.spending``).
    reserved_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    request_id = models.CharField(max_length=128, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "submit_key"], condition=~models.Q(submit_key=""),
                                    name="one_job_per_submit_key"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def n(self) -> int:
        return int(self.request.get("n") or 1)

    @property
    def partial_images(self) -> int:
        return int(self.request.get("partial_images") or 0)

    @property
    def elapsed_seconds(self) -> int | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return max(0, round((end - self.started_at).total_seconds()))

    @property
    def retry_in_seconds(self) -> int | None:
        """Seconds until the client retries the call, while it waits to."""
        if self.retry_at is None or self.status != self.Status.RUNNING:
            return None
        return max(0, round((self.retry_at - timezone.now()).total_seconds()))

    @property
    def total_tokens(self) -> int:
        return int(self.usage.get("total_tokens") or 0)

    @property
    def cost_display(self) -> Decimal | None:
        return None if self.cost_usd is None else self.cost_usd.quantize(Decimal("0.0001"))


class JobInput(models.Model):
    """The input images of an edit, in the order they are sent (the mask applies to the first)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="job_inputs")
    input_image = models.ForeignKey("gallery.InputImage", on_delete=models.PROTECT, related_name="job_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="unique_job_input_position")]

    def __str__(self) -> str:
        return f"{self.job_id}[{self.position}]"


class WorkerHeartbeat(models.Model):
    """Written by each task worker every few seconds, for /healthz."""

    worker_id = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()
    in_flight = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.worker_id


class UpstreamPace(models.Model):
    """How fast calls to the Images API may start, shared by every worker (``studio.pacing``)."""

    key = models.CharField(max_length=64, unique=True)
    # When the pace has caught up with every image started so far (the GCRA's "theoretical
    # arrival time"): each image started moves it on by 60 / (images per minute x factor) s.
    next_free_at = models.DateTimeField(null=True, blank=True)
    factor = models.FloatField(default=1.0, help_text="Share of STUDIO_IMAGES_PER_MINUTE in use; a 429 halves it.")
    slowed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} (×{self.factor:.2f})"


class ModelOffer(models.Model):
    """Staff's word on one model, in Django admin: offer it in the picker or not, over what
    ``STUDIO_MODELS`` says (see ``studio.selectors.offered_models``)."""

    model = models.CharField(max_length=64, unique=True,
                             help_text="An active model of the catalogue (imageapi/catalogue.py).")
    offered = models.BooleanField(default=True, help_text="Untick to take the model out of the picker.")
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]
        verbose_name = "offered model"

    def __str__(self) -> str:
        return f"{self.model} ({'offered' if self.offered else 'not offered'})"

    def clean(self) -> None:
        entry = catalogue.entry_for(self.model)
        if entry is None:
            raise ValidationError({"model": f"{self.model} is not in the catalogue."})
        if entry.is_shut_down and self.offered:
            raise ValidationError({"model": entry.shutdown_message(self.model)})
