from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .models import Collection, Image, ImageInput, InputImage, ShareLink
from .storage import serve_file


class ImageInputInline(admin.TabularInline):
    model = ImageInput
    extra = 0
    raw_id_fields = ["input_image"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "preview", "short_prompt", "space", "created_by", "model", "size", "quality", "format",
                    "cost_usd", "created_at", "deleted_at"]
    list_filter = ["space", "model", "quality", "format", "kind", "created_at",
                   ("deleted_at", admin.EmptyFieldListFilter), "created_by"]
    list_select_related = ["created_by", "space"]
    search_fields = ["prompt", "request_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by", "job", "mask", "space", "deleted_by"]
    readonly_fields = ["preview", "sha256", "byte_size", "usage", "request", "request_id", "latency_ms"]
    inlines = [ImageInputInline]

    def get_urls(self) -> list:
        thumbnail = self.admin_site.admin_view(self.thumbnail_view)
        return [path("<int:pk>/thumbnail/", thumbnail, name="gallery_image_thumbnail"), *super().get_urls()]

    def thumbnail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff see every image's thumbnail here, as far as their admin permissions go;
        the gallery's own views show users only what the permission helper allows."""
        image = self.get_object(request, str(pk))
        if image is None or not self.has_view_permission(request, image):
            raise Http404
        return serve_file(image.thumbnail, content_type="image/webp", cache="private, max-age=300")

    @admin.display(description="Thumbnail")
    def preview(self, image: Image) -> str:
        url = reverse("admin:gallery_image_thumbnail", args=[image.pk])
        return format_html('<img src="{}" alt="" width="96" height="96">', url)

    @admin.display(description="Prompt")
    def short_prompt(self, image: Image) -> str:
        return image.prompt[:60]


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
