"""A real S3-compatible server for tests: moto's server mode (from PyPI) on a free port of
127.0.0.1, and a fresh private bucket made the default storage. Test modules wrap these in
their own fixtures (``moto_server`` for a session, ``use_bucket`` per test)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import boto3

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "studio-test", "aws_secret_access_key": "studio-test-secret"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def moto_server() -> Iterator[int]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()


def use_bucket(settings, port: int) -> SimpleNamespace:
    """A fresh private bucket as the default storage. The app reaches it at 127.0.0.1, browsers
    at localhost (as with MinIO in compose), so signed URLs must be signed for the latter."""
    endpoint = f"http://127.0.0.1:{port}"
    public = f"http://localhost:{port}"
    bucket = f"studio-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "gallery.storage.PrivateS3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": endpoint, "public_endpoint_url": public, "region_name": REGION,
        "access_key": CREDENTIALS["aws_access_key_id"], "secret_key": CREDENTIALS["aws_secret_access_key"],
        "default_acl": None, "querystring_auth": True, "querystring_expire": 300, "signature_version": "s3v4",
        "addressing_style": "path", "file_overwrite": False, "max_memory_size": 1024 * 1024,
    }}}
    settings.STUDIO_STORAGE = "s3"
    settings.STUDIO_S3_REDIRECT = True

    def listing(prefix: str = "") -> list[str]:
        response = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(entry["Key"] for entry in response.get("Contents", []))

    def body(key: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()

    return SimpleNamespace(client=client, bucket=bucket, endpoint=endpoint, public=public, listing=listing, body=body)
