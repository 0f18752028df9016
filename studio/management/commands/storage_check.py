from argparse import ArgumentParser
from datetime import timedelta

from django.core.management.base import BaseCommand

from studio.services import ORPHAN_AGE, storage_check

LISTED = 20


class Command(BaseCommand):
    help = ("Check that storage and the database agree: orphan files, rows whose file is missing, "
            "stale previews. --repair removes orphans older than an hour and marks missing files.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--repair", action="store_true",
                            help="Remove orphans and stale previews; mark missing files.")
        parser.add_argument("--orphan-age", type=float, default=ORPHAN_AGE.total_seconds(),
                            help="Seconds a file must be old to count as an orphan (default: %(default)s).")

    def handle(self, *, repair: bool, orphan_age: float, **options: object) -> None:
        report = storage_check(repair=repair, orphan_age=timedelta(seconds=orphan_age))
        for title, names in (("Orphan files", report.orphans), ("Rows whose file is missing", report.missing),
                             ("Stale previews", report.stale_previews)):
            if names:
                self.stdout.write(f"{title} ({len(names)}):")
                for name in names[:LISTED]:
                    self.stdout.write(f"  {name}")
                if len(names) > LISTED:
                    self.stdout.write(f"  … and {len(names) - LISTED} more")
        self.stdout.write(("Repaired: " if repair else "Found: ") + report.summary())
        if report.problems and not repair:
            raise SystemExit(1)
