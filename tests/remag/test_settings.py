"""Settings come from the environment, with safe defaults for development only."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "REDIS_URL"}}
    base["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'settings-test.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        f"execute_from_command_line(['manage.py', *{list(args)!r}])",
        DJANGO_SETTINGS_MODULE="remag.settings",
        **env,
    )


SHOW = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'remag.settings'); "
    "django.setup(); from django.conf import settings as s; "
)


def test_refuses_to_start_without_secret_when_debug_is_off() -> None:
    result = run_python(SHOW + "print(s.SECRET_KEY)", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_code_only_commands_run_without_a_secret_but_others_refuse() -> None:
    def manage_py(*args: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**base, "DEBUG": "0"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    result = manage_py("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout

    result = manage_py("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_secret_only_with_debug() -> None:
    result = run_python(SHOW + "print(s.SECRET_KEY)", DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("django-insecure-")


def test_check_deploy_is_clean_with_debug_off_and_a_real_secret() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="remag.example.in",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_redis_tasks_run_in_process_and_cache_is_local() -> None:
    result = run_python(
        SHOW + "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])", DEBUG="1"
    )

    assert result.stdout.split() == ["True", "django.core.cache.backends.locmem.LocMemCache"]


def test_with_redis_url_broker_and_cache_use_it() -> None:
    result = run_python(
        SHOW
        + "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])",
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )

    assert result.stdout.split() == [
        "False",
        "redis://127.0.0.1:6379/3",
        "django.core.cache.backends.redis.RedisCache",
    ]


def test_celery_defaults_suit_a_database_is_truth_design() -> None:
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT


def test_suite_runs_on_postgresql_when_services_are_required(postgres: None) -> None:
    from django.db import connection

    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("name", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"])
def test_every_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text()
    assert f"{name}=" in (ROOT / ".env.example").read_text()


def test_production_defaults_redirect_to_https_and_serve_static_without_a_manifest() -> None:
    """The suite turns the redirect off for its plain-HTTP test clients (tests/conftest.py);
    production settings keep it on."""
    result = run_python(
        SHOW + "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.STORAGES['staticfiles']['BACKEND'], s.WHITENOISE_USE_FINDERS)",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "remag.storage.ForgivingManifestStaticFilesStorage",
        "True",
    ]


def test_behind_pgbouncer_no_server_side_cursors_or_prepared_statements() -> None:
    script = (
        SHOW
        + "d = s.DATABASES['default']; "
        + "print(d.get('DISABLE_SERVER_SIDE_CURSORS'), d['OPTIONS'].get('prepare_threshold', 5))"
    )
    url = "postgres://u@127.0.0.1:5432/x"
    behind = run_python(script, DEBUG="1", DATABASE_URL=url, DATABASE_PGBOUNCER="1")
    direct = run_python(script, DEBUG="1", DATABASE_URL=url)
    later = run_python(script, DEBUG="1", DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="20")
    assert behind.stdout.split() == ["True", "None"], behind.stderr
    assert direct.stdout.split() == ["None", "5"], direct.stderr
    assert later.stdout.split() == ["None", "20"], later.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment() -> None:
    example = ROOT / "docker" / "remag.env.example"
    env = {}
    for line in example.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
