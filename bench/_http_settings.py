"""Settings for bench/bench_http.py only: remag's settings with the floor views mounted."""

from remag.settings import *  # noqa: F403

ROOT_URLCONF = "_http_urls"
