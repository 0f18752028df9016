from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

FORMAT_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class InputImage(models.Model):
    """An image or mask uploaded for an edit, kept so every edit can show what it started from."""

    class Role(models.TextChoices):
        IMAGE = "image", "Input image"
        MASK = "mask", "Mask"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=8, choices=Role.choices)
    file = models.FileField(upload_to="inputs/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # When the input was picked from the gallery, the image it came from (its lineage).
    source_image = models.ForeignKey("Image", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="used_as_input")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name or f"{self.role} {self.pk}"

    @property
    def content_type(self) -> str:
        return FORMAT_CONTENT_TYPES.get(self.format, "application/octet-stream")


class Image(models.Model):
    """One image the API returned, with everything needed to understand and redo it."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images")
    job = models.ForeignKey("studio.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    kind = models.CharField(max_length=16, default="generate")  # generate | edit
    index = models.PositiveSmallIntegerField(default=0, help_text="Position in its batch of n.")

    prompt = models.TextField()
    request = models.JSONField(default=dict, help_text="Every API parameter as sent.")
    model = models.CharField(max_length=64)
    snapshot = models.CharField(max_length=64)
    inputs = models.ManyToManyField(InputImage, through="ImageInput", related_name="+")
    mask = models.ForeignKey(InputImage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    file = models.FileField(upload_to="images/%Y/%m/")
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/")
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    # What the API says it used (answers `auto`).
    size = models.CharField(max_length=16, blank=True)
    quality = models.CharField(max_length=16, blank=True)
    background = models.CharField(max_length=16, blank=True)

    # Usage of the whole call (it covers all n images) and this image's share of the cost.
    usage = models.JSONField(default=dict)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal(0))
    request_id = models.CharField(max_length=128, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at", "-id"], name="image_owner_newest")]

    def __str__(self) -> str:
        return f"Image {self.pk}: {self.prompt[:40]}"

    @property
    def content_type(self) -> str:
        return FORMAT_CONTENT_TYPES.get(self.format, "application/octet-stream")

    @property
    def download_name(self) -> str:
        return f"studio-{self.pk}.{'jpg' if self.format == 'jpeg' else self.format}"


class ImageInput(models.Model):
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="image_inputs")
    input_image = models.ForeignKey(InputImage, on_delete=models.PROTECT, related_name="image_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["image", "position"], name="unique_image_input_position")]

    def __str__(self) -> str:
        return f"{self.image_id}[{self.position}]"
