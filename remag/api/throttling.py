"""Per-caller rate limits kept in the cache (Redis when configured).

Each API key, each user and each anonymous address has its own bucket; the rates
come from ``settings.REMAG_THROTTLE_RATES`` (env ``THROTTLE_RATE_*``) and are read on
every request so they can be changed without touching code.
"""

import logging
from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class CallerRateThrottle(SimpleRateThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        # The scope, and so the rate, is known only once the caller is.
        self.scope = "anon"
        self.rate = None

    def get_rate(self) -> str | None:
        return settings.REMAG_THROTTLE_RATES.get(self.scope)

    def _identify(self, request: Any) -> tuple[str, str]:
        from remag.accounts.authentication import APIKeyPrincipal

        user = request.user
        if isinstance(user, APIKeyPrincipal):
            return "api_key", str(user.api_key.public_id)
        if user is not None and user.is_authenticated:
            return "user", str(user.pk)
        return "anon", self.get_ident(request)

    def get_cache_key(self, request: Any, view: Any) -> str:
        self.scope, ident = self._identify(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope, _ = self._identify(request)
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:
            # A cache outage must not take the API down with it: let the call through.
            logger.warning("throttle cache unavailable; request allowed", exc_info=True)
            return True
