"""The production static setup (DEBUG=0: WhiteNoise, hashed names from a manifest):
the API docs page and its assets answer 200 before and after ``collectstatic``."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def production_static(settings: Any, tmp_path: Path) -> Path:
    """Production's static settings (test_settings.py checks they are these), with an
    empty STATIC_ROOT of this test's own."""
    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "remag.storage.ForgivingManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = False
    return tmp_path / "static"


def assets_of(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](/static/[^"']+\.(?:js|css))""", html)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/dashboard/"])
def test_docs_and_assets_answer_before_collectstatic(production_static: Path, path: str) -> None:
    client = Client()

    response = client.get(path)

    assert response.status_code == 200, response.content[:500]
    assets = assets_of(response.content.decode())
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert b"".join(answer.streaming_content)


@pytest.mark.django_db
def test_docs_and_hashed_assets_answer_after_collectstatic(production_static: Path) -> None:
    call_command("collectstatic", "--noinput", verbosity=0)
    assert (production_static / "staticfiles.json").is_file()
    client = Client()

    for page in ("/api/docs/", "/dashboard/"):
        response = client.get(page)

        assert response.status_code == 200
        assets = assets_of(response.content.decode())
        assert any(re.search(r"\.[0-9a-f]{12}\.js$", asset) for asset in assets), assets
        for asset in assets:
            answer = client.get(asset)
            assert answer.status_code == 200, asset
            assert "immutable" in answer["Cache-Control"] or "max-age" in answer["Cache-Control"]
