"""Who may see and change images, inputs, collections and share links. Every view, file
download, zip, share page and endpoint gets its objects through these functions, so an object
a user may not see is simply not found (a 404), whichever path asks for it. They build on the
space rules of ``teams.permissions``: roles, actions and which spaces a user may read or write.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from teams.ids import id_or_404
from teams.models import Role
from teams.permissions import User, manageable_space_ids, member_space_ids, readable_space_ids, writable_space_ids

from .models import Collection, Image, InputImage, ShareLink

# -- images and what hangs off them --------------------------------------------------------


def visible_images(user: User) -> QuerySet[Image]:
    """Images not in the trash, in the user's spaces."""
    return Image.objects.alive().filter(space_id__in=readable_space_ids(user))


def deletable_images(user: User) -> QuerySet[Image]:
    """Images (in the trash or not) the user may delete, restore or purge."""
    if not user.is_authenticated:
        return Image.objects.none()
    owned = Q(space_id__in=manageable_space_ids(user))
    own_as_editor = Q(space_id__in=member_space_ids(user, roles=(Role.EDITOR,)), created_by_id=user.pk)
    return Image.objects.filter(owned | own_as_editor)


def thumbnail_images(user: User) -> QuerySet[Image]:
    """Images whose thumbnail the user may load: the visible ones, and trashed ones they may restore."""
    return Image.objects.filter(Q(pk__in=visible_images(user)) | Q(pk__in=deletable_images(user).in_trash()))


def organisable_images(user: User) -> QuerySet[Image]:
    return visible_images(user).filter(space_id__in=writable_space_ids(user))


def visible_input_images(user: User) -> QuerySet[InputImage]:
    """Inputs and masks: the uploader's, and those of any image the user may see."""
    if not user.is_authenticated:
        return InputImage.objects.none()
    seen = visible_images(user)
    return InputImage.objects.filter(
        Q(created_by_id=user.pk)
        | Q(pk__in=seen.values("image_inputs__input_image"))
        | Q(pk__in=seen.filter(mask__isnull=False).values("mask"))
    )


def visible_collections(user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(space_id__in=readable_space_ids(user))


def organisable_collections(user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(space_id__in=writable_space_ids(user))


def manageable_share_links(user: User) -> QuerySet[ShareLink]:
    """Links the user may see and revoke: those on things they may organise."""
    spaces = writable_space_ids(user)
    return ShareLink.objects.filter(Q(image__space_id__in=spaces) | Q(collection__space_id__in=spaces))


def get_visible_image(user: User, pk: object) -> Image:
    return get_object_or_404(visible_images(user), pk=id_or_404(pk))


def get_visible_input_image(user: User, pk: object) -> InputImage:
    return get_object_or_404(visible_input_images(user), pk=id_or_404(pk))
