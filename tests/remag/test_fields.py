"""remag.api.fields.url_template: a row's URL around its id, reversed once per URLconf
and script prefix (a deployment under a sub-path must not get another one's URLs)."""

from typing import Any

from django.test import RequestFactory
from django.urls import clear_script_prefix, set_script_prefix

from remag.api.fields import url_template


def test_the_template_follows_the_script_prefix_and_the_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["portal.example", "other.example"]
    request = RequestFactory().get("/", HTTP_HOST="portal.example")
    try:
        set_script_prefix("/remag/")
        under = url_template(request, "match-detail")
        set_script_prefix("/")
        root = url_template(request, "match-detail")
    finally:
        clear_script_prefix()
    other = url_template(RequestFactory().get("/", HTTP_HOST="other.example"), "match-detail")

    assert under == "http://portal.example/remag/api/v1/matches/{id}/"
    assert root == "http://portal.example/api/v1/matches/{id}/"
    assert other == "http://other.example/api/v1/matches/{id}/"
