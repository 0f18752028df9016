from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from teams.permissions import Action, can, get_space_for, readable_space_ids

from . import services
from .files import INPUT_FILE_FORMATS, RESULT_FILE_FORMATS
from .forms import (
    BulkForm,
    CollectionForm,
    FavouriteForm,
    GalleryFilterForm,
    NextForm,
    ShareLinkForm,
    TagAddForm,
    TagRemoveForm,
)
from .models import Collection, CollectionItem, Image, InputImage, ShareLink, Tag
from .permissions import (
    deletable_images,
    get_visible_image,
    get_visible_input_image,
    manageable_share_links,
    organisable_collections,
    organisable_images,
    thumbnail_images,
    visible_collections,
    visible_images,
)
from .selectors import gallery_count, gallery_page, image_inputs, neighbours, space_tags, version_tree
from .storage import serve_file

# Files never change once written (new bytes get a new name), so browsers may keep them.
PRIVATE_CACHE = "private, max-age=86400, immutable"


def _file_response(field: FieldFile, *, content_type: str, download_name: str | None = None,
                   cache: str = PRIVATE_CACHE, stream: bool = False,
                   formats: frozenset[str] = INPUT_FILE_FORMATS) -> HttpResponse:
    # The bytes (local disk) or a redirect to a short-lived signed URL (bucket): see gallery.storage.
    response = serve_file(field, content_type=content_type, download_name=download_name, cache=cache,
                          stream=stream, formats=formats)
    return response


def _images(count: int) -> str:
    return f"{count} image{pluralize(count)}"


def _filter_form(request: HttpRequest) -> GalleryFilterForm:
    return GalleryFilterForm(request.GET, user=request.user)


def _view_query(filters: dict) -> str:
    """The filters as a query string, to carry a view from the grid to an image and back."""
    values = {name: ("1" if value is True else value) for name, value in filters.items()}
    return urlencode(values)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = form.filters()
    direction = "previous" if request.GET.get("before") else "next"
    page = gallery_page(user=request.user, filters=filters,
                        cursor=request.GET.get("before") or request.GET.get("after"), direction=direction)
    context = {
        "form": form, "page": page, "view_query": _view_query(filters),
        "collections": organisable_collections(request.user).select_related("space").order_by("space", "name"),
    }
    # htmx paging gets the grid alone; a history restore after Back needs the whole page.
    grid_only = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    response = render(request, "gallery/index.html#grid" if grid_only else "gallery/index.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


PICK_PAGE_SIZE = 24


@require_GET
def pick(request: HttpRequest) -> HttpResponse:
    """Gallery images to use as inputs of an edit, newest first, searchable. The edit form's
    "Pick from gallery" dialog shows this page's results; without scripting it is a page of its
    own whose images each open the edit form."""
    filters = {name: value for name, value in _filter_form(request).filters().items() if name == "q"}
    cursor = request.GET.get("after")
    page = gallery_page(user=request.user, filters=filters, cursor=cursor, page_size=PICK_PAGE_SIZE)
    context = {"page": page, "query": filters.get("q", "")}
    template = "gallery/pick.html"
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template += "#tiles" if cursor else "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def count(request: HttpRequest) -> HttpResponse:
    """The size of a gallery view, fetched by the grid after it is shown: counting a sparse
    view takes longer as the gallery grows, and the page itself should not."""
    filters = _filter_form(request).filters()
    return render(request, "gallery/index.html#count", {"count": gallery_count(user=request.user, filters=filters)})


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_visible_image(request.user, pk)
    filters = _filter_form(request).filters()
    previous, following = neighbours(user=request.user, image=image, filters=filters)
    inputs = image_inputs(image=image)
    context = {
        "image": image, "inputs": inputs, "view_query": _view_query(filters),
        # Lineage links only to sources the user may still see: no id of anything else shows.
        "visible_sources": set(visible_images(request.user).filter(
            pk__in=[i.source_image_id for i in inputs if i.source_image_id]).values_list("pk", flat=True)),
        "previous": previous, "next": following,
        "is_favourite": image.favourites.filter(user=request.user).exists(),
        "tags": image.tags.order_by("name"), "space_tags": space_tags(space_id=image.space_id),
        "collections": image.collections.filter(pk__in=visible_collections(request.user)).order_by("name"),
        "may_organise": can(request.user, Action.ORGANISE, image.space),
        "space_collections": organisable_collections(request.user).filter(space=image.space).order_by("name"),
        "may_delete": can(request.user, Action.DELETE, image.space, created_by_id=image.created_by_id),
        "share_links": manageable_share_links(request.user).filter(image=image, revoked_at__isnull=True,
                                                                   expires_at__gt=timezone.now()),
        "versions": version_tree(user=request.user, image=image),
        "share_form": ShareLinkForm(initial={"image": image.pk}, auto_id="share-%s"),
    }
    return render(request, "gallery/detail.html", context)


def _visible_image_param(request: HttpRequest, name: str) -> Image:
    """The visible image whose id is the query parameter ``name``: a 404 for anything else."""
    return get_visible_image(request.user, request.GET.get(name, ""))


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two versions of an image, ``?a=<pk>&b=<pk>``, in a slider overlay or side by side; with ``a``
    alone, the versions of ``a`` to pick the other one from."""
    first = _visible_image_param(request, "a")
    second = _visible_image_param(request, "b") if "b" in request.GET else None
    context = {"a": first, "b": second, "sides": [("A", first), ("B", second)] if second else [],
               "versions": None if second else version_tree(user=request.user, image=first)}
    return render(request, "gallery/compare.html", context)


@require_GET
def original(request: HttpRequest, pk: int) -> HttpResponse:
    """The bytes exactly as the API returned them; ``?download=1`` saves them as a file."""
    image = get_visible_image(request.user, pk)
    name = image.download_name if request.GET.get("download") else None
    return _file_response(image.file, content_type=image.content_type, download_name=name,
                          formats=RESULT_FILE_FORMATS)


@require_GET
def thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """Thumbnails of visible images, and of trashed ones the user may restore (for the trash page)."""
    image = get_object_or_404(thumbnail_images(request.user), pk=pk)
    return _file_response(image.thumbnail, content_type="image/webp")


@require_GET
def input_file(request: HttpRequest, pk: int) -> HttpResponse:
    """An edit's input image or mask."""
    input_image = get_visible_input_image(request.user, pk)
    # The mask painter reads a kept mask's pixels: it must come from this origin, not a bucket's.
    return _file_response(input_image.file, content_type=input_image.content_type,
                          stream=input_image.role == InputImage.Role.MASK)


# -- organising -------------------------------------------------------------------------------


@require_POST
def favourite(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_visible_image(request.user, pk)
    form = _valid(FavouriteForm(request.POST))
    is_favourite = services.favourite_set(user=request.user, image=image, favourite=form.is_favourite)
    if request.htmx:
        return render(request, "gallery/detail.html#favourite", {"image": image, "is_favourite": is_favourite})
    return redirect(_back(request, reverse("gallery:detail", args=[pk])))


def _organisable(request: HttpRequest, pk: int) -> Image:
    image = get_visible_image(request.user, pk)
    if not can(request.user, Action.ORGANISE, image.space):
        raise PermissionDenied
    return image


@require_POST
def tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    image = _organisable(request, pk)
    services.tags_add(images=[image], names=_valid(TagAddForm(request.POST)).names)
    return _tags_response(request, image)


@require_POST
def tag_remove(request: HttpRequest, pk: int) -> HttpResponse:
    image = _organisable(request, pk)
    services.tag_remove(image=image, name=_valid(TagRemoveForm(request.POST)).cleaned_data["tag"])
    return _tags_response(request, image)


def _tags_response(request: HttpRequest, image: Image) -> HttpResponse:
    if request.htmx:
        return render(request, "gallery/detail.html#tags", {
            "image": image, "tags": image.tags.order_by("name"), "space_tags": space_tags(space_id=image.space_id),
            "may_organise": True})
    return redirect("gallery:detail", pk=image.pk)


@require_GET
def tag_suggestions(request: HttpRequest) -> HttpResponse:
    """Tags of the spaces the user may see that start with ``q``, for autocomplete."""
    prefix = services.tag_name(request.GET.get("q", ""))
    names = (Tag.objects.filter(space_id__in=readable_space_ids(request.user), name__startswith=prefix)
             .order_by("name").values_list("name", flat=True).distinct()[:20])
    return render(request, "gallery/_tag_options.html", {"names": names})


@require_POST
def collection_create(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST)
    form.is_valid()
    space = get_space_for(request.user, form.cleaned_data.get("space"), Action.ORGANISE)
    if "name" in form.errors:
        messages.error(request, form.errors["name"][0])
        return redirect("gallery:collections")
    collection = services.collection_create(space=space, user=request.user, name=form.cleaned_data["name"])
    messages.success(request, f"Collection “{collection.name}” created.")
    return redirect(f"{reverse('gallery:index')}?collection={collection.pk}")


@require_GET
def collections(request: HttpRequest) -> HttpResponse:
    from teams.selectors import destinations_for

    context = {
        "collections": visible_collections(request.user).select_related("space")
        .order_by("space__name", "space_id", "name")
        # A cover (the image added last) and a count, of the images still out of the trash.
        .annotate(image_count=Count("images", filter=Q(images__deleted_at__isnull=True), distinct=True),
                  cover_id=Subquery(CollectionItem.objects.filter(
                      collection=OuterRef("pk"), image__deleted_at__isnull=True)
                      .order_by("-added_at", "-pk").values("image_id")[:1]))
        .prefetch_related(Prefetch("share_links", to_attr="active_links", queryset=ShareLink.objects.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now()))),
        "spaces": destinations_for(user=request.user),
    }
    for collection in context["collections"]:
        collection.share_form = ShareLinkForm(initial={"collection": collection.pk},
                                              auto_id=f"share-%s-{collection.pk}")
    return render(request, "gallery/collections.html", context)


def _back(request: HttpRequest, default: str) -> str:
    """The page to return to: the posted ``next`` when it stays on this site, else ``default``."""
    form = NextForm(request.POST)
    target = form.cleaned_data["next"] if form.is_valid() else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _valid(form):
    """The form, validated: a POST no page of ours sends (a malformed id, an unknown action)
    is answered like a request for something that is not there."""
    if not form.is_valid():
        raise Http404
    return form


# -- bulk actions -----------------------------------------------------------------------------


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected images. Each action takes only the images it is allowed on:
    a request naming an image the user may not touch acts as if it had not named it."""
    form = BulkForm(request.POST)
    back = _back(request, reverse("gallery:index"))
    if not form.is_valid() and form.cleaned_data.get("image"):
        raise Http404  # an action or collection no page of ours sends
    if not (ids := form.cleaned_data.get("image")):
        messages.info(request, "Select some images first.")
        return redirect(back)
    action = form.cleaned_data["action"]
    if action == "zip":
        images = visible_images(request.user).filter(pk__in=ids).order_by("-created_at")
        response = StreamingHttpResponse(services.zip_stream(images.iterator()), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="studio-{timezone.now():%Y%m%d-%H%M%S}.zip"'
        return response
    if action == "collect":
        collection = get_object_or_404(organisable_collections(request.user), pk=_collection_id(form))
        added = services.collection_add(collection=collection, user=request.user,
                                        images=organisable_images(request.user).filter(pk__in=ids))
        messages.success(request, f"Added {added} image{'s' if added != 1 else ''} to “{collection.name}”.")
    elif action == "uncollect":
        collection = get_object_or_404(organisable_collections(request.user), pk=_collection_id(form))
        services.collection_remove(collection=collection, images=Image.objects.filter(pk__in=ids))
        messages.success(request, f"Removed from “{collection.name}”.")
    elif action == "tag":
        if not any(Tag.normalise(name) for name in form.tag_names):
            messages.info(request, "Type a tag first.")
            return redirect(back)
        images = organisable_images(request.user).filter(pk__in=ids)
        tags = services.tags_add(images=images, names=form.tag_names)
        messages.success(request, f"Tagged {_images(len(images))} with {', '.join(sorted({t.name for t in tags}))}.")
    elif action == "trash":
        count = services.images_trash(user=request.user, images=deletable_images(request.user).filter(pk__in=ids))
        messages.success(request, f"Moved {_images(count)} to the trash. They stay there for 30 days.")
    elif action == "restore":
        count = services.images_restore(user=request.user,
                                        images=deletable_images(request.user).in_trash().filter(pk__in=ids))
        messages.success(request, f"Restored {_images(count)}.")
    elif action == "purge":
        count = services.images_purge(user=request.user,
                                      images=deletable_images(request.user).in_trash().filter(pk__in=ids))
        messages.success(request, f"Deleted {_images(count)} for good.")
    return redirect(back)


def _collection_id(form: BulkForm) -> int:
    if not form.cleaned_data["collection"]:
        raise Http404
    return form.cleaned_data["collection"]


@require_GET
def trash(request: HttpRequest) -> HttpResponse:
    images = deletable_images(request.user).in_trash().select_related("space").order_by("-deleted_at")[:200]
    return render(request, "gallery/trash.html", {"images": images, "days": services.TRASH_DAYS})


# -- share links ------------------------------------------------------------------------------


@require_POST
def share_create(request: HttpRequest) -> HttpResponse:
    form = _valid(ShareLinkForm(request.POST))
    if image_id := form.cleaned_data["image"]:
        target: Image | Collection = get_visible_image(request.user, image_id)
    else:
        target = get_object_or_404(visible_collections(request.user), pk=form.cleaned_data["collection"])
    if not can(request.user, Action.ORGANISE, target.space):
        raise PermissionDenied
    link = services.share_link_create(user=request.user, target=target, days=form.cleaned_data["days"],
                                      show_prompt=form.cleaned_data["show_prompt"])
    url = request.build_absolute_uri(reverse("share", args=[link.token]))
    messages.success(request, f"Share link created: {url}")
    return redirect(_back(request, reverse("gallery:index")))


@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(manageable_share_links(request.user), pk=pk)
    services.share_link_revoke(user=request.user, link=link)
    messages.success(request, "The share link no longer works.")
    return redirect(_back(request, reverse("gallery:index")))


def _active_link(token: str) -> ShareLink:
    link = ShareLink.objects.select_related("image", "collection").filter(token=token).first()
    if link is None or not link.is_active:
        raise Http404
    if link.image is not None and link.image.deleted_at is not None:
        raise Http404
    return link


def _shared_images(link: ShareLink) -> list[Image]:
    if link.image is not None:
        return [link.image]
    return list(link.collection.images.alive().order_by("collection_items__added_at", "pk")[:500])


@login_not_required
@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """What a share link shows anyone: the pictures (and the prompt if allowed), nothing else. A link
    revoked, expired or of a deleted image is gone (410), an unknown one not found (404): both on a
    page of their own that says so, never an error page (not even Django's debug page)."""
    try:
        link = _active_link(token)
    except Http404:
        gone = ShareLink.objects.filter(token=token).exists()
        response = render(request, "gallery/share_gone.html", status=410 if gone else 404)
        response["X-Robots-Tag"] = "noindex"
        return response
    images = _shared_images(link)
    title = link.collection.name if link.collection is not None else "Shared image"
    response = render(request, "gallery/share.html", {"link": link, "images": images, "title": title})
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_GET
def share_file(request: HttpRequest, token: str, position: int, kind: str) -> HttpResponse:
    """An image of a share link by its position in the share: no id of anything leaks."""
    if kind not in ("image", "thumbnail"):
        raise Http404
    link = _active_link(token)
    images = _shared_images(link)
    if not 0 <= position < len(images):
        raise Http404
    image = images[position]
    if kind == "thumbnail":
        return _file_response(image.thumbnail, content_type="image/webp", cache="private, max-age=300")
    name = f"shared-{position + 1}.{'jpg' if image.format == 'jpeg' else image.format}"
    return _file_response(image.file, content_type=image.content_type, cache="private, max-age=300",
                          download_name=name if request.GET.get("download") else None,
                          formats=RESULT_FILE_FORMATS)


@require_POST
def image_trash(request: HttpRequest, pk: int) -> HttpResponse:
    """The detail page's own delete button (bulk covers the rest)."""
    image = get_object_or_404(deletable_images(request.user).filter(pk__in=visible_images(request.user)), pk=pk)
    services.images_trash(user=request.user, images=[image])
    messages.success(request, "Moved to the trash. Restore it from the trash within 30 days.")
    return redirect("gallery:index")
