"""The gallery's answers to signals sent by the apps below it."""

from django.dispatch import receiver

from teams.activity import IMAGE_REF, visible_named_objects

from .permissions import visible_collections, visible_images


@receiver(visible_named_objects)
def images_and_collections_the_reader_may_open(sender, *, user, events, **kwargs) -> set[tuple[str, int]]:
    named_images = {int(match) for event in events for match in IMAGE_REF.findall(event.summary)}
    named_collections = {int(event.object_id) for event in events
                         if event.object_type == "collection" and event.object_id.isdigit()}
    images = visible_images(user).filter(pk__in=named_images).values_list("pk", flat=True)
    collections = visible_collections(user).filter(pk__in=named_collections).values_list("pk", flat=True)
    return {("image", pk) for pk in images} | {("collection", pk) for pk in collections}
