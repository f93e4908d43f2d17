"""The verification email through a real SMTP server (aiosmtpd on a loopback port),
configured the way production is (``EMAIL_URL``), and the link in it followed."""

import email
import re
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import environ
import pytest
from aiosmtpd.controller import Controller
from rest_framework.test import APIClient

from remag.accounts.models import User

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (envelope.mail_from, envelope.rcpt_tos, email.message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def started(inbox: Inbox, attempts: int = 5) -> Controller:
    """An SMTP server for ``inbox`` on a free loopback port. A port probed free can be
    taken before the server binds it (by the suite's other process, among others), and
    aiosmtpd's controller cannot bind port 0 itself: then another port is tried."""
    for attempt in range(attempts):
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        try:
            controller.start()
        except OSError:  # the address is in use
            if attempt == attempts - 1:
                raise
            continue
        return controller
    raise AssertionError("unreachable")


@pytest.fixture
def smtp_inbox(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = started(inbox)
    config = environ.Env.email_url_config(f"smtp://127.0.0.1:{controller.port}")
    settings.EMAIL_BACKEND = config["EMAIL_BACKEND"]
    settings.EMAIL_HOST = config["EMAIL_HOST"]
    settings.EMAIL_PORT = config["EMAIL_PORT"]
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


def test_the_verification_email_arrives_by_smtp_and_its_link_verifies(
    smtp_inbox: Inbox, settings: Any
) -> None:
    settings.REMAG_PUBLIC_BASE_URL = "https://remag.example.in"
    settings.DEFAULT_FROM_EMAIL = "remag <no-reply@remag.example.in>"

    response = APIClient().post(
        "/api/v1/auth/signup/",
        {
            "email": "founder@magnets.example.in",
            "password": "sintered-ndfeb-2026",
            "organization_name": "Founder Magnetics",
            "organization_kind": "manufacturer",
        },
        format="json",
    )

    assert response.status_code == 202
    ((sender, recipients, message),) = smtp_inbox.messages
    assert sender == "no-reply@remag.example.in"
    assert recipients == ["founder@magnets.example.in"]
    assert message["Subject"] == "remag: confirm your email address"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https://remag\.example\.in(/api/v1/auth/verify-email/\?token=\S+)", body)
    assert link, body

    verified = APIClient().get(link.group(1))

    assert verified.status_code == 200, verified.content
    assert User.objects.get(email="founder@magnets.example.in").email_verified
