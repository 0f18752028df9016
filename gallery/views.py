from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .permissions import get_visible_image, get_visible_input_image
from .selectors import gallery_page, image_inputs

# Files never change once written (new bytes get a new name), so browsers may keep them.
PRIVATE_CACHE = "private, max-age=86400, immutable"


def _file_response(field: FieldFile, *, content_type: str, download_name: str | None = None) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type, as_attachment=download_name is not None,
                            filename=download_name or "")
    response["Cache-Control"] = PRIVATE_CACHE
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    page = gallery_page(user=request.user, page_number=request.GET.get("page"))
    template = "gallery/index.html#grid" if request.htmx else "gallery/index.html"
    return render(request, template, {"page": page})


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_visible_image(request.user, pk)
    context = {"image": image, "inputs": image_inputs(image=image)}
    return render(request, "gallery/detail.html", context)


@require_GET
def original(request: HttpRequest, pk: int) -> FileResponse:
    """The bytes exactly as the API returned them; ``?download=1`` saves them as a file."""
    image = get_visible_image(request.user, pk)
    name = image.download_name if request.GET.get("download") else None
    return _file_response(image.file, content_type=image.content_type, download_name=name)


@require_GET
def thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    image = get_visible_image(request.user, pk)
    return _file_response(image.thumbnail, content_type="image/webp")


@require_GET
def input_file(request: HttpRequest, pk: int) -> FileResponse:
    """An edit's input image or mask."""
    input_image = get_visible_input_image(request.user, pk)
    return _file_response(input_image.file, content_type=input_image.content_type)
