"""The errors domain code raises. They know nothing of HTTP: the API's one exception
handler (:mod:`remag.api.exceptions`) maps each to a problem document, and a worker or a
management command reads ``detail`` and ``code`` the same way.

``code`` is a machine-readable reason (``request_not_runnable``); ``field`` names the
input field at fault, when there is one; any other keyword becomes an extension member of
the problem document (``existing=<url>`` on a conflict, ``max_bytes`` on a size limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A resource of the domain named by its kind and id (``Ref("supplier", id)``).

    An error carries one as an extension member (``existing=Ref(...)``); the API turns it
    into ``{"id": ..., "url": ...}``, so the domain never builds a URL.
    """

    kind: str
    id: Any


class DomainError(Exception):
    """A rule of the domain said no. Subclasses say which kind of no."""

    kind = "invalid"  # the API maps kinds to statuses and problem types

    def __init__(
        self, detail: str, *, code: str | None = None, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        self.extra = extra

    def __str__(self) -> str:
        return self.detail


class InvalidInput(DomainError):
    """The input breaks a rule; ``field`` names it (a 400 validation problem)."""

    kind = "invalid"


class Conflict(DomainError):
    """The change conflicts with the current state (a 409)."""

    kind = "conflict"


class NotAllowed(DomainError):
    """The caller may not do this (a 403)."""

    kind = "not-allowed"


class NotFound(DomainError):
    """No such thing is visible to the caller (a 404)."""

    kind = "not-found"


class TooLarge(DomainError):
    """The input is over a size limit (a 413); ``max_bytes`` says the limit."""

    kind = "too-large"
