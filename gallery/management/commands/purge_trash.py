from django.core.management.base import BaseCommand

from gallery.services import TRASH_DAYS, trash_purge_expired


class Command(BaseCommand):
    help = f"Delete for good the images that have been in the trash for more than {TRASH_DAYS} days."

    def handle(self, **options: object) -> None:
        purged = trash_purge_expired()
        self.stdout.write(f"Purged {purged} image(s) from the trash.")
