"""The deployment as docker/compose.yaml describes it. No Docker engine runs where the suite
runs, so the image is not built here; instead (docker/README.md says so):

- the compose file and the Dockerfile are checked: every service's command is one the
  image provides, every queue has a worker, there is exactly one beat;
- the very commands of the compose services run as host processes with ``DEBUG=0`` on
  PostgreSQL and Redis (gunicorn with its config, one worker per queue, beat), and a
  request goes publish -> match run -> webhook delivery over HTTP.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

from remag import queues
from tests.conftest import (
    ROOT,
    database_url_for_subprocess,
    gunicorn_listening_at,
    queue_prefix,
    wait_for,
)
from tests.factories import UserTokenFactory
from tests.matching.conftest import request_body, world  # noqa: F401 (fixture)
from tests.remag.webhook_receiver import Receiver, start_receiver

COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def compose_services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def remag_services() -> dict[str, list[str]]:
    """The services that run the remag image, with their commands."""
    return {
        name: service["command"]
        for name, service in compose_services().items()
        if service.get("image") == "remag:latest"
    }


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


# ------------------------------------------------------------------ the files


def test_every_compose_command_is_one_the_image_provides() -> None:
    services = remag_services()
    assert set(services) >= {"migrate", "web", "beat"}
    bin_dir = Path(sys.executable).parent
    for name, command in services.items():
        program = command[0]
        if program == "python":
            assert command[1] == "manage.py", name
            assert command[2] in get_commands(), f"{name}: no command {command[2]}"
        elif program == "gunicorn":
            assert (bin_dir / "gunicorn").exists()  # installed with the project
            config = option(command, "-c")
            assert config.startswith("python:")
            __import__(config.removeprefix("python:"))
            assert command[-1] == "remag.wsgi"
        elif program == "celery":
            assert (bin_dir / "celery").exists()
            assert option(command, "-A") == "remag"
            assert command[3] in ("worker", "beat"), name
        else:
            pytest.fail(f"{name}: {program} is not in the image")


def test_each_queue_has_workers_and_there_is_one_beat() -> None:
    services = compose_services()
    commands = remag_services()
    served = [option(command, "-Q") for command in commands.values() if command[3:4] == ["worker"]]
    assert sorted(served) == sorted(queues.all_queues("celery"))
    beats = [name for name, command in commands.items() if command[3:4] == ["beat"]]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in commands:
        if name != "migrate":
            depends = services[name]["depends_on"]
            assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "--appendonly" in services["redis"]["command"]
    assert any("postgresql/data" in volume for volume in services["postgres"]["volumes"])


def test_the_image_is_slim_unprivileged_and_healthchecked() -> None:
    text = DOCKERFILE.read_text()
    stages = [line.split() for line in text.splitlines() if line.startswith("FROM ")]
    assert [stage[1] for stage in stages] == ["python:3.11-slim", "python:3.11-slim"]
    final = text.split("FROM python:3.11-slim AS runtime", 1)[1]
    assert "build-essential" not in final  # no compilers in the final image
    assert "\nUSER remag\n" in final
    assert "HEALTHCHECK" in final
    assert "/healthz" in final
    assert "collectstatic" in final
    web = remag_services()["web"]
    assert f"CMD {str(web).replace(chr(39), chr(34))}" in final


# ------------------------------------------------------------------ the processes


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()


class Deployment(str):
    """The web's base URL, with the folder of the processes' logs."""

    logs: Path


@pytest.fixture
def production_processes(
    redis_url: str, cache_key_prefix: str, celery_test_queue: str, tmp_path: Path
) -> Iterator[Deployment]:
    """Start the compose services' commands as host processes; yields the web's URL."""
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("the production processes run on PostgreSQL")
    prefix = queue_prefix(celery_test_queue)
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; TLS ends at a proxy
        "DATABASE_URL": database_url,
        "DATABASE_POOL_MAX_SIZE": "2",
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": cache_key_prefix,
        # This test's own queues: the compose queue names, prefixed.
        "CELERY_TASK_DEFAULT_QUEUE": celery_test_queue,
        "CELERY_QUEUE_PREFIX": prefix,
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        # The web takes a free port itself, read back from its log.
        "GUNICORN_BIND": "127.0.0.1:0",
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
    }
    processes: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    for name, command in remag_services().items():
        if name == "migrate":
            continue  # the test database is migrated already
        command = list(command)
        if "-Q" in command:
            served = option(command, "-Q")
            queue = celery_test_queue if served == "celery" else prefix + served
            command[command.index("-Q") + 1] = queue
            command[command.index("-n") + 1] = f"{queue}@%h"
            command.append("--without-mingle")
        if "--schedule" in command:
            command[command.index("--schedule") + 1] = str(tmp_path / "beat-schedule")
        log_path = tmp_path / f"{name}.log"
        executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
        process = subprocess.Popen(
            [executable or sys.executable, *command[1:]],
            cwd=ROOT,
            env=env,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append((name, process, log_path))
    try:
        (web,) = [(process, log) for name, process, log in processes if name == "web"]
        base = Deployment(gunicorn_listening_at(web[1], web[0]))
        base.logs = tmp_path
        wait_for(lambda: _get(f"{base}/healthz")[0] == 200, timeout=60, interval=0.3)
        yield base
    finally:
        for _name, process, _log in processes:
            process.send_signal(signal.SIGTERM)
        for name, process, log_path in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            sys.stdout.write(f"\n--- {name} ---\n{log_path.read_text(errors='replace')[-3000:]}")


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (loopback)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def _post(url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    import json

    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_compose_commands_serve_a_request_to_a_delivered_webhook(
    postgres: None,
    world: Any,  # noqa: F811 (the fixture)
    receiver: Receiver,
    production_processes: Deployment,
) -> None:
    import json

    from remag.webhooks import services

    base = production_processes
    buyer_token = UserTokenFactory(user=world.buyer).raw_key
    services.endpoint_create(
        organization=world.buyer_org,
        url=receiver.url,
        event_types=["request.published", "match_run.succeeded"],
    )

    status, ready = _get(f"{base}/readyz")
    assert status == 200, ready
    assert json.loads(ready)["status"] == "ready"
    # A request line past gunicorn's default limit (4 KB) reaches remag, which answers
    # (here: no such capabilities) with a problem document, not gunicorn's plain 400.
    long_query = "&".join(f"capability=c{n:04d}" for n in range(300))  # about 5.4 KB
    status, refused = _get(f"{base}/api/v1/suppliers/?{long_query}", buyer_token)
    assert status == 400, refused[:300]
    assert [e["field"] for e in json.loads(refused)["errors"]] == ["capability"]

    status, created = _post(f"{base}/api/v1/requests/", buyer_token, request_body())
    assert status == 201, created
    status, _ = _post(f"{base}/api/v1/requests/{created['id']}/publish/", buyer_token)
    assert status == 200

    def run_state() -> Any:
        code, body = _get(f"{base}/api/v1/requests/{created['id']}/match-runs/", buyer_token)
        runs = json.loads(body)["results"] if code == 200 else []
        return runs[0] if runs and runs[0]["status"] == "succeeded" else None

    run = wait_for(run_state, timeout=60, interval=0.5)
    assert run["matched_count"] == 3
    received = receiver.wait_for(2, timeout=60)
    types = sorted(json.loads(r.body)["type"] for r in received)
    assert types == ["match_run.succeeded", "request.published"]
    # Gunicorn's access log is JSON, one object per request.
    lines = (production_processes.logs / "web.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith('{"time"')]
    access = [line for line in logged if line.get("type") == "access"]  # not the app's
    published = [a for a in access if a["path"].endswith("/publish/")]
    assert [(a["method"], a["status"]) for a in published] == [("POST", 200)]


def test_the_image_holds_every_app_and_the_processes_share_uploaded_files() -> None:
    from django.conf import settings

    text = DOCKERFILE.read_text()
    packages = {app.split(".")[0] for app in settings.INSTALLED_APPS}
    local = sorted(p for p in packages if (ROOT / p / "__init__.py").exists())
    assert "remag" in local
    for package in local:
        assert f"COPY {package} ./{package}" in text, package
    for name, service in compose_services().items():
        if service.get("image") == "remag:latest":
            assert "media:/app/var/media" in service.get("volumes", []), name
    assert "MEDIA_ROOT=/app/var/media" in (ROOT / "docker" / "remag.env.example").read_text()
