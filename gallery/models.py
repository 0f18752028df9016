from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

FORMAT_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
GRID_CHOICE_FILTERS = ("quality", "size", "format")  # carried by the gallery's sort indexes


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


class ImageQuerySet(models.QuerySet):
    def alive(self) -> ImageQuerySet:
        return self.filter(deleted_at__isnull=True)

    def in_trash(self) -> ImageQuerySet:
        return self.filter(deleted_at__isnull=False)


class Image(models.Model):
    """One image the API returned, with everything needed to understand and redo it."""

    class Kind(models.TextChoices):
        GENERATE = "generate", "Generate"
        EDIT = "edit", "Edit"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images")
    space = models.ForeignKey("teams.Space", on_delete=models.CASCADE, related_name="images")
    job = models.ForeignKey("studio.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENERATE)
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
    # Set by `manage.py storage_check --repair` when the file or thumbnail is gone from storage.
    file_missing = models.BooleanField(default=False)

    # What the API says it used (answers `auto`).
    size = models.CharField(max_length=16, blank=True)
    quality = models.CharField(max_length=16, blank=True)
    background = models.CharField(max_length=16, blank=True)

    # Usage of the whole call (it covers all n images) and this image's share of the cost.
    usage = models.JSONField(default=dict)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal(0))
    # The model had no price when the job was submitted: shown as "price unknown", never $0. The
    # cost stays 0 in the column (not empty) so that the gallery's cost order and filters, which
    # page by cost, keep working; such images sort as the cheapest.
    price_unknown = models.BooleanField(default=False)
    request_id = models.CharField(max_length=128, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # In the trash since then (purged 30 days later); restore clears it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    tags = models.ManyToManyField("Tag", blank=True, related_name="images")

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # The gallery reads a space's alive images in sort order from a cursor on (gallery.selectors):
        # - partial indexes, so that "deleted_at IS NULL" is the index's condition rather than a column
        #   that PostgreSQL would have to sort around (it cannot match IS NULL to an ORDER BY);
        # - the grid's choice filters (quality, size, format) last, so that they are checked inside the
        #   index: counting a filter's matches then reads no rows (and is an index-only scan on PostgreSQL).
        indexes = [
            models.Index(fields=["space", "-created_at", "-id", *GRID_CHOICE_FILTERS],
                         condition=models.Q(deleted_at__isnull=True), name="image_alive_newest"),
            models.Index(fields=["space", "-cost_usd", "-created_at", "-id", *GRID_CHOICE_FILTERS],
                         condition=models.Q(deleted_at__isnull=True), name="image_alive_cost"),
            models.Index(fields=["space", "-deleted_at"], condition=models.Q(deleted_at__isnull=False),
                         name="image_trash"),
            models.Index(fields=["created_by", "-created_at", "-id"], name="image_owner_newest"),
        ]

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


class Collection(models.Model):
    """A board of images inside one space."""

    space = models.ForeignKey("teams.Space", on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    images = models.ManyToManyField(Image, through="CollectionItem", related_name="collections")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["space", "name"], name="unique_collection_name_per_space")]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="collection_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["collection", "image"], name="image_once_per_collection")]

    def __str__(self) -> str:
        return f"{self.image_id} in {self.collection_id}"


class Tag(models.Model):
    """A label shared by the images of one space (autocompleted from the space's tags)."""

    space = models.ForeignKey("teams.Space", on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["space", "name"], name="unique_tag_per_space")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def normalise(raw: str) -> str:
        """Tags are lower-case words or short phrases: "Hero  Shot " and "hero shot" are one tag."""
        return " ".join(raw.strip().lower().split())[:50]


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "image"], name="favourite_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.image_id}"


class ShareLink(models.Model):
    """A revocable, expiring read-only link to one image or one collection, for anyone."""

    token = models.CharField(max_length=64, unique=True)
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    collection = models.ForeignKey(Collection, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="share_links")
    show_prompt = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(image__isnull=False, collection__isnull=True)
                | models.Q(image__isnull=True, collection__isnull=False),
                name="share_link_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Share link {self.pk}"

    @property
    def target(self) -> Image | Collection:
        return self.image or self.collection

    @property
    def space(self):
        return self.target.space

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
