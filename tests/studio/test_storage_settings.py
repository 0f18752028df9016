"""STUDIO_STORAGE and the bucket settings, each read in a fresh interpreter (settings load once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STORAGE_VARIABLES = ("STUDIO_STORAGE", "STUDIO_S3_REDIRECT", "STUDIO_S3_URL_SECONDS", "STUDIO_S3_PUBLIC_URL",
                     "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME", "AWS_ACCESS_KEY_ID",
                     "AWS_SECRET_ACCESS_KEY", "DEBUG", "SECRET_KEY", "OPENAI_API_KEY")
REPORT = """
import json
from django.conf import settings as s
default = s.STORAGES["default"]
print(json.dumps({"backend": default["BACKEND"], "options": default.get("OPTIONS", {}),
                  "img_src": s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"],
                  "redirect": s.STUDIO_S3_REDIRECT}))
"""
S3 = {"STUDIO_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "studio-files", "AWS_ACCESS_KEY_ID": "key-id",
      "AWS_SECRET_ACCESS_KEY": "a-secret-value"}

CASES: dict[str, dict[str, str]] = {
    "default": {},
    "s3 on AWS": {**S3, "AWS_S3_REGION_NAME": "eu-west-1"},
    "s3 on MinIO": {**S3, "AWS_S3_ENDPOINT_URL": "http://minio:9000", "STUDIO_S3_PUBLIC_URL": "https://files.example.com"},
    "s3 streamed": {**S3, "AWS_S3_ENDPOINT_URL": "http://minio:9000", "STUDIO_S3_REDIRECT": "false",
                    "AWS_S3_REGION_NAME": ""},
    "STUDIO_STORAGE=gcs": {"STUDIO_STORAGE": "gcs"},
    "s3 without a bucket": {"STUDIO_STORAGE": "s3"},
    "AWS_S3_ENDPOINT_URL=minio:9000": {**S3, "AWS_S3_ENDPOINT_URL": "minio:9000"},
    "STUDIO_S3_URL_SECONDS=1": {**S3, "STUDIO_S3_URL_SECONDS": "1"},
}


def _start(overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in STORAGE_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="studio.settings", **overrides)
    return subprocess.run([sys.executable, "-c", REPORT], cwd=REPO_ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def started() -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(_start, CASES.values()), strict=True))


def _settings(started, case: str) -> dict:
    result = started[case]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_disk_is_the_default(started):
    report = _settings(started, "default")
    assert report["backend"] == "django.core.files.storage.FileSystemStorage"
    assert report["img_src"] == ["'self'", "data:", "blob:"]


def test_s3_on_aws_stores_private_objects_and_lets_pages_load_the_bucket(started):
    report = _settings(started, "s3 on AWS")
    options = report["options"]
    assert report["backend"] == "gallery.storage.PrivateS3Storage"
    assert options["bucket_name"] == "studio-files" and options["region_name"] == "eu-west-1"
    assert options["endpoint_url"] is None and options["addressing_style"] is None
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300 and options["signature_version"] == "s3v4"
    assert options["file_overwrite"] is False
    assert options["access_key"] == "key-id" and options["secret_key"] == "a-secret-value"
    assert "https://studio-files.s3.eu-west-1.amazonaws.com" in report["img_src"]


def test_s3_on_minio_signs_for_the_public_address(started):
    report = _settings(started, "s3 on MinIO")
    options = report["options"]
    assert options["endpoint_url"] == "http://minio:9000" and options["addressing_style"] == "path"
    assert options["public_endpoint_url"] == "https://files.example.com"
    assert report["img_src"] == ["'self'", "data:", "blob:", "https://files.example.com"]


def test_streaming_needs_no_bucket_origin_in_pages(started):
    report = _settings(started, "s3 streamed")
    assert report["redirect"] is False and report["options"]["region_name"] is None
    assert report["img_src"] == ["'self'", "data:", "blob:"]


@pytest.mark.parametrize(("case", "variable"), [
    ("STUDIO_STORAGE=gcs", "STUDIO_STORAGE"),
    ("s3 without a bucket", "AWS_STORAGE_BUCKET_NAME"),
    ("AWS_S3_ENDPOINT_URL=minio:9000", "AWS_S3_ENDPOINT_URL"),
    ("STUDIO_S3_URL_SECONDS=1", "STUDIO_S3_URL_SECONDS"),
])
def test_a_bad_storage_setting_stops_start_up_naming_it(started, case, variable):
    result = started[case]
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and variable in last_line
    assert "a-secret-value" not in result.stderr
