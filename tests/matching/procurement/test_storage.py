"""Attachments go through Django's storage API: the filesystem by default, S3-compatible
object storage with STORAGE_BACKEND=s3 (django-storages), configured by environment."""

import json
from pathlib import Path

from tests.remag.test_settings import run_python

SHOW = (
    "import django, json; django.setup();"
    "from django.core.files.storage import default_storage, storages; s = storages['default'];"
    "from matching.procurement.models import QuotationAttachment as A;"
    "print(json.dumps({'class': type(s).__module__ + '.' + type(s).__name__,"
    "'bucket': getattr(s, 'bucket_name', None), 'endpoint': getattr(s, 'endpoint_url', None),"
    "'region': getattr(s, 'region_name', None), 'acl': getattr(s, 'default_acl', 'n/a'),"
    "'overwrite': getattr(s, 'file_overwrite', None), 'location': getattr(s, 'location', None),"
    "'default': A._meta.get_field('file').storage is default_storage}))"
)


def test_the_filesystem_by_default(tmp_path: Path) -> None:
    result = run_python(SHOW, DEBUG="1", MEDIA_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert shown["location"] == str(tmp_path)


def test_s3_compatible_storage_from_the_environment() -> None:
    result = run_python(
        SHOW,
        DEBUG="1",
        STORAGE_BACKEND="s3",
        AWS_STORAGE_BUCKET_NAME="remag-files",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        AWS_S3_REGION_NAME="ap-south-1",
        AWS_LOCATION="attachments",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown == {
        "class": "storages.backends.s3.S3Storage",
        "bucket": "remag-files",
        "endpoint": "http://127.0.0.1:9000",
        "region": "ap-south-1",
        "acl": None,
        "overwrite": False,
        "location": "attachments",
        "default": True,
    }


def test_an_unknown_backend_stops_the_service() -> None:
    result = run_python("import django; django.setup()", DEBUG="1", STORAGE_BACKEND="ftp")
    assert result.returncode != 0
    assert "STORAGE_BACKEND must be filesystem or s3" in result.stderr
