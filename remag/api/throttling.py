"""Per-caller rate limits kept in the cache (Redis when configured).

Each API key, each user and each anonymous address has its own bucket; the rates
come from ``settings.REMAG_THROTTLE_RATES`` (env ``THROTTLE_RATE_*``) and are read on
every request so they can be changed without touching code.

The limit is a **fixed window** counted atomically. A caller's first request opens a
window of the rate's period (a minute for ``N/minute``); each request increments the
window's counter, and a request whose count exceeds ``N`` is refused with ``Retry-After``
set to the seconds left in the window. On Redis the increment and the expiry are one Lua
script, so parallel clients on any number of processes can never be admitted more than
``N`` times a window (DRF's own throttle reads, appends and writes a list back, and
loses updates under concurrency). Without Redis (the local-memory cache of ``make run``)
the counter is updated under a process-wide lock, exact within the process. A window
boundary may let through up to ``2N`` in the two periods around it: the price of a
counter that costs one round trip.
"""

import hashlib
import logging
import math
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# KEYS[1]: the window's counter; ARGV[1]: the window in milliseconds.
# Returns {count including this request, milliseconds left in the window}.
_FIXED_WINDOW_LUA = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    left = tonumber(ARGV[1])
end
return {count, left}
"""

_SCRIPT_ATTRIBUTE = "_remag_fixed_window_script"
_local_lock = threading.Lock()


def window_hit(key: str, window_seconds: int) -> tuple[int, float]:
    """Count one request in ``key``'s current window: (count so far, seconds left)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        # The script, registered once per cache object (one per thread) with a client of
        # the cache's write pool: Django builds a client per call (a tenth of a
        # millisecond, copying redis-py's table of reply callbacks), and a registered
        # script is sent by its digest (EVALSHA; loaded again if the server lost it).
        script = getattr(cache, _SCRIPT_ATTRIBUTE, None)
        if script is None:
            script = cache._cache.get_client(full_key, write=True).register_script(
                _FIXED_WINDOW_LUA
            )
            setattr(cache, _SCRIPT_ATTRIBUTE, script)
        count, left_ms = script(keys=[full_key], args=[window_seconds * 1000])
        return int(count), int(left_ms) / 1000
    with _local_lock:
        now = time.time()
        count, opened = cache.get(key) or (0, now)
        if now - opened >= window_seconds:
            count, opened = 0, now
        count += 1
        left = window_seconds - (now - opened)
        cache.set(key, (count, opened), timeout=math.ceil(left) + 1)
        return count, left


class CallerRateThrottle(SimpleRateThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        # The scope, and so the rate, is known only once the caller is.
        self.scope = "anon"
        self.rate = None
        self.retry_after: float | None = None

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
        key = self.get_cache_key(request, view)
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            count, left = window_hit(key, self.duration)
        except Exception:
            # A cache outage must not take the API down with it: let the call through.
            logger.warning("throttle cache unavailable; request allowed", exc_info=True)
            return True
        if count <= self.num_requests:
            return True
        self.retry_after = max(left, 1.0)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class AttemptRateThrottle(CallerRateThrottle):
    """A second budget for attempts an attacker would repeat: signing up, logging in,
    verifying, trying a claim code.

    The view names its ``throttle_scope`` (a key of ``REMAG_THROTTLE_RATES``) and may
    define ``throttle_subject(request)``: the email address or account the attempt is
    about. Each attempt counts in two windows, the client address's and the subject's
    (hashed, so no address is written to the cache), and is refused when either is over
    the rate. The subject's window holds whether or not the address belongs to anyone,
    so the answer reveals nothing. Every caller's own budget still applies beside it.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        self.rate = settings.REMAG_THROTTLE_RATES.get(scope) if scope else None
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        keys = [f"throttle:{scope}:address:{self.get_ident(request)}"]
        subject_of = getattr(view, "throttle_subject", None)
        subject = subject_of(request) if subject_of is not None else None
        if subject:
            digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]
            keys.append(f"throttle:{scope}:subject:{digest}")
        waits = []
        for key in keys:
            try:
                count, left = window_hit(key, self.duration)
            except Exception:
                logger.warning("throttle cache unavailable; request allowed", exc_info=True)
                return True
            if count > self.num_requests:
                waits.append(max(left, 1.0))
        if not waits:
            return True
        self.retry_after = max(waits)
        return False
