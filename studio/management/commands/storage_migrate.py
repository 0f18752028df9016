from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gallery.storage import CopyReport, PrivateS3Storage, storage_copy

PROGRESS_EVERY = 500


class Command(BaseCommand):
    help = ("Copy every file under MEDIA_ROOT to the bucket configured by STUDIO_STORAGE=s3, under the "
            "same names. Files already in the bucket are skipped, so it can be re-run until it copies nothing.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", choices=["s3"], required=True, help="where the files go")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be copied")

    def handle(self, *args: Any, to: str, dry_run: bool, **options: Any) -> None:
        destination = storages["default"]
        if not isinstance(destination, PrivateS3Storage):
            raise CommandError("Set STUDIO_STORAGE=s3 and the bucket's settings (AWS_STORAGE_BUCKET_NAME, ...) "
                               "first: the files go to the storage the app will use.")
        source = FileSystemStorage(location=settings.MEDIA_ROOT)
        if not source.exists(""):
            raise CommandError(f"MEDIA_ROOT ({settings.MEDIA_ROOT}) does not exist: nothing to copy.")

        def progress(report: CopyReport) -> None:
            if report.total % PROGRESS_EVERY == 0:
                self.stdout.write(f"… {report.total} file(s) looked at")

        try:
            report = storage_copy(source=source, destination=destination, dry_run=dry_run, progress=progress)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would copy" if dry_run else "Copied"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {len(report.copied)} file(s) to bucket {destination.bucket_name}; "
            f"{len(report.skipped)} already there."))
        if not dry_run and report.copied:
            self.stdout.write("Run it again to check: it should copy nothing. Local files are left in place.")
