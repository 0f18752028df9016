"""What a team's activity page links to.

Activity entries name images and collections, which live in an app above this one. The page
asks, by a signal, which of the named objects the reader may still open; the gallery answers
(``gallery/receivers.py``), so the rule stays in its owner's room and teams imports nothing above it.
"""

import re

from django.dispatch import Signal

# An image named in an entry's summary: "generated 2 images: #12, #13".
IMAGE_REF = re.compile(r"#(\d{1,18})\b")

# Sent with ``user`` and ``events`` (AuditEvent rows); each receiver returns a set of
# ``(object_type, pk)`` pairs, e.g. ``("image", 12)``, that the user may open.
visible_named_objects = Signal()


def openable_objects(*, user, events) -> set[tuple[str, int]]:
    openable: set[tuple[str, int]] = set()
    for _receiver, answer in visible_named_objects.send(sender=None, user=user, events=events):
        openable |= answer
    return openable
