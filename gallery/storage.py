"""Where image files live, and the one way a permitted request gets a file's bytes.

Files are on the local disk by default, or private objects in an S3-compatible bucket with
``STUDIO_STORAGE=s3`` (see settings). Code only ever uses the Django storage API (names,
``open``, ``save``, ``delete``), never filesystem paths, so either works everywhere.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .files import INPUT_FILE_FORMATS, inert_file_response


class PrivateS3Storage(S3Storage):
    """Private objects in a bucket; a browser reaches one only by a short-lived signed URL.

    ``public_endpoint_url`` is where browsers reach the bucket when the app reaches it by
    another address (in compose, MinIO is http://minio:9000 to the app and
    http://localhost:9000 to the browser). Signed URLs carry the host in their signature,
    so they are signed for that address.
    """

    def __init__(self, *, public_endpoint_url: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.public_endpoint_url = public_endpoint_url or None
        self._public_clients = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_public_clients", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._public_clients = threading.local()

    def _signing_client(self) -> Any:
        if not self.public_endpoint_url or self.public_endpoint_url == self.endpoint_url:
            return self.connection.meta.client
        client = getattr(self._public_clients, "client", None)
        if client is None:
            # Signing is local: this client never sends a request.
            client = self._create_session().client(
                "s3", region_name=self.region_name, use_ssl=self.use_ssl, endpoint_url=self.public_endpoint_url,
                config=self.client_config, verify=self.verify,
            )
            self._public_clients.client = client
        return client

    def signed_url(self, name: str, *, content_type: str, cache_control: str, download_name: str | None = None,
                   expire: int | None = None) -> str:
        """A GET URL for one object, valid for ``expire`` seconds. The response headers are
        fixed by the signature, so the bucket answers with our content type, never one it guessed."""
        params = {
            "Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name)),
            "ResponseContentType": content_type, "ResponseCacheControl": cache_control,
        }
        if download_name is not None:
            params["ResponseContentDisposition"] = content_disposition_header(True, download_name)
        return self._signing_client().generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expire or self.querystring_expire)


def serve_file(field: FieldFile, *, content_type: str, cache: str, download_name: str | None = None,
               stream: bool = False, formats: frozenset[str] = INPUT_FILE_FORMATS) -> HttpResponse:
    """The response for a file the caller has already allowed this request to see.

    From a bucket: a redirect to a signed URL (unless ``STUDIO_S3_REDIRECT`` is false, or the
    caller asks to ``stream``, e.g. for a file a page script must read pixels of: a
    cross-origin image would taint its canvas). Otherwise the bytes pass through this process,
    served as an image only when they are one of ``formats`` (see ``gallery.files``).
    """
    if not field:
        raise Http404
    storage = field.storage
    if isinstance(storage, PrivateS3Storage) and settings.STUDIO_S3_REDIRECT and not stream:
        expire = storage.querystring_expire
        url = storage.signed_url(field.name, content_type=content_type, cache_control=cache,
                                 download_name=download_name, expire=expire)
        response: HttpResponse = HttpResponseRedirect(url)
        # Reusing the redirect (for less than the URL's life) lets the browser reuse the cached bytes;
        # never for longer than the caller allows the bytes themselves.
        max_age = re.search(r"max-age=(\d+)", cache)
        seconds = min(expire // 2, int(max_age.group(1))) if max_age else 0
        response["Cache-Control"] = "private, no-store" if "no-store" in cache or not seconds \
            else f"private, max-age={seconds}"
        return response
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    # Through this process the bytes decide the type, and the file can never act as a page.
    return inert_file_response(handle, download_name=download_name, cache=cache, formats=formats)


@dataclasses.dataclass
class CopyReport:
    copied: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)  # already there, same size

    @property
    def total(self) -> int:
        return len(self.copied) + len(self.skipped)


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name under ``folder`` of ``storage``, depth first (disk or bucket alike)."""
    directories, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from stored_names(storage, f"{folder}/{directory}" if folder else directory)


def storage_copy(*, source: Storage, destination: Storage, dry_run: bool = False,
                 progress: Callable[[CopyReport], None] | None = None) -> CopyReport:
    """Copy every file of ``source`` to ``destination`` under the same name, so the rows that
    name them stay right. A file already there with the same size is skipped, so an interrupted
    copy is finished by running it again; one there with another size (a broken upload) is replaced."""
    report = CopyReport()
    for name in stored_names(source):
        size = source.size(name)
        try:
            present = destination.size(name) == size
        except FileNotFoundError:
            present = False
        else:
            if not present and not dry_run:
                destination.delete(name)
        if present:
            report.skipped.append(name)
        else:
            if not dry_run:
                with source.open(name, "rb") as handle:
                    stored = destination.save(name, File(handle, name=name))
                if stored != name:  # another writer took the name in between: never point rows elsewhere
                    destination.delete(stored)
                    raise RuntimeError(f"{name} was stored as {stored}; run the copy again.")
            report.copied.append(name)
        if progress is not None:
            progress(report)
    return report
