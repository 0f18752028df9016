import io

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from PIL import Image as PILImage

from teams.models import Space

from .models import Collection, Image, ImageInput, InputImage, ShareLink

ADMIN_PREVIEW_PX = 192


class SpaceFilter(admin.SimpleListFilter):
    """Spaces by kind and whose: every personal space is called "Personal", so say whose it is."""

    title = "space"
    parameter_name = "space"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        spaces = Space.objects.select_related("owner").order_by("kind", "name", "owner__username")
        return [(str(space.pk), f"Team: {space.name}" if space.is_team else f"Personal: {space.owner.get_username()}")
                for space in spaces]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(space_id=int(value)) if value and value.isdigit() else queryset


def history_fields(model, *, editable: tuple[str, ...] = ()) -> list[str]:
    """Every field of ``model`` but ``editable``: what a row records of what happened is not for editing."""
    return [field.name for field in model._meta.get_fields()
            if (field.concrete or field.many_to_many) and not field.auto_created and field.name not in editable]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ImageInputInline(ReadOnlyInline):
    model = ImageInput


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "preview", "short_prompt", "space", "created_by", "model", "size", "quality", "format",
                    "cost", "created_at", "deleted_at"]
    # No filter listing every user: it would grow with the users; search finds a creator instead.
    list_filter = [SpaceFilter, "model", "quality", "format", "kind", "price_unknown", "created_at",
                   ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by", "space"]
    list_per_page = 50
    search_fields = ["prompt", "request_id", "created_by__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["deleted_by"]
    inlines = [ImageInputInline]

    # An image records what was asked, what it cost and which files came back: only its place in the
    # trash may change here; images are made by jobs, never added by hand.
    def get_readonly_fields(self, request: HttpRequest, obj: Image | None = None) -> list[str]:
        return ["preview", *history_fields(Image, editable=("deleted_at", "deleted_by"))]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list:
        thumbnail = self.admin_site.admin_view(self.thumbnail_view)
        return [path("<int:pk>/thumbnail/", thumbnail, name="gallery_image_thumbnail"), *super().get_urls()]

    def thumbnail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff see every image's thumbnail here, as far as their admin permissions go;
        the gallery's own views show users only what the permission helper allows. The list shows
        it at 96 px, so it is sent at 192 px (sharp on a 2x screen): a page of 50 stays light."""
        image = self.get_object(request, str(pk))
        if image is None or not self.has_view_permission(request, image):
            raise Http404
        with image.thumbnail.open("rb") as handle:
            picture = PILImage.open(handle)
            picture.thumbnail((ADMIN_PREVIEW_PX, ADMIN_PREVIEW_PX))
            out = io.BytesIO()
            picture.save(out, "WEBP", quality=70)
        response = HttpResponse(out.getvalue(), content_type="image/webp")
        response["Cache-Control"] = "private, max-age=86400"
        return response

    @admin.display(description="Thumbnail")
    def preview(self, image: Image) -> str:
        url = reverse("admin:gallery_image_thumbnail", args=[image.pk])
        return format_html('<img src="{}" alt="" width="96" height="96" loading="lazy" decoding="async">', url)

    @admin.display(description="Prompt")
    def short_prompt(self, image: Image) -> str:
        return image.prompt[:60]

    @admin.display(description="Cost (USD)", ordering="cost_usd")
    def cost(self, image: Image) -> str:
        # Never $0 for an image whose model had no price: it says so.
        return "price unknown" if image.price_unknown else f"{image.cost_usd:.5f}"


@admin.register(InputImage)
class InputImageAdmin(admin.ModelAdmin):
    list_display = ["id", "role", "original_name", "created_by", "format", "width", "height", "created_at"]
    list_filter = ["role", "format"]
    raw_id_fields = ["created_by", "source_image"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "space", "created_by", "created_at"]
    list_filter = ["space"]
    search_fields = ["name"]
    raw_id_fields = ["space", "created_by"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["pk", "image", "collection", "created_by", "show_prompt", "expires_at", "revoked_at"]
    raw_id_fields = ["image", "collection", "created_by"]
    readonly_fields = ["token"]
