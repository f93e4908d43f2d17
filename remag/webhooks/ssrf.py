"""The server-side request forgery guard for webhook URLs.

A webhook URL must not lead remag's workers into the deployment's own network: a URL
whose host resolves to a private, loopback, link-local, multicast, reserved or otherwise
non-global address is refused, unless that address is in
``REMAG_WEBHOOK_ALLOWED_NETWORKS``. The check runs when an endpoint is created or
changed and again at every delivery (DNS can change), and the delivery then connects to
the very address that was checked, so a second lookup cannot swap it.

IPv6 addresses that carry an IPv4 address inside are judged by that address too: 6to4
(``2002::/16``), Teredo (``2001::/32``, server and client), IPv4-mapped
(``::ffff:0:0/96``, connected to as IPv4), IPv4-compatible (``::/96``, deprecated and
refused) and NAT64 (``64:ff9b::/96``, accepted only for a public IPv4 address, as DNS64
gives on IPv6-only networks; the local-use ``64:ff9b:1::/48`` is never public). A port
must be written in ASCII digits and lie in 1..65535.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"
    address: str  # the checked IP address to connect to


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "non-public"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "non-public"
    return None


NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64, compatible)."""
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if address in NAT64_WELL_KNOWN or (address in IPV4_COMPATIBLE and int(address) > 1):
        return [low32]  # :: and ::1 are the unspecified and loopback addresses
    return []


def _problem(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached (``"a private address"``...), or None."""
    if _allowed(address):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        for inner in embedded:
            kind = _kind(inner)
            if kind is not None and not _allowed(inner):
                return f"which embeds {inner}, a {kind} address"
        if address in NAT64_WELL_KNOWN and embedded:
            return None  # reserved as IPv6, but it only translates to a public address
        if address in NAT64_LOCAL_USE:
            return "a non-public (local-use NAT64) address"
    kind = _kind(address)
    return f"a {kind} address" if kind is not None else None


def _port(parts: SplitResult) -> int | None:
    """The URL's explicit port, None when it has none; ``UnsafeURL`` when invalid."""
    hostinfo = parts.netloc.rpartition("@")[2]
    if hostinfo.startswith("["):
        rest = hostinfo.partition("]")[2]
    else:
        rest = hostinfo[hostinfo.find(":") :] if ":" in hostinfo else ""
    text = rest[1:] if rest.startswith(":") else ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise UnsafeURL("The URL's port is not valid (1 to 65535).")
    return int(text)


def _allowed(address: IPAddress) -> bool:
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.REMAG_WEBHOOK_ALLOWED_NETWORKS]


def check_url(url: str) -> Target:
    """Resolve ``url``'s host and return where to connect, or raise :class:`UnsafeURL`.
    The URL is printable ASCII (RFC 3986's characters): its path goes into the request
    line as it is, where anything else cannot be sent (nor is it a ``uri``, as the API's
    schema says the field is)."""
    parts = urlsplit(url)
    schemes = ("https", "http") if settings.REMAG_WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL("The URL must use https." if "http" not in schemes else "Use http(s).")
    if parts.username or parts.password:
        raise UnsafeURL("The URL must not carry credentials.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("The URL has no host.")
    try:
        parts.port  # noqa: B018 (urllib's own checks first)
    except ValueError as exc:
        raise UnsafeURL("The URL's port is not valid (1 to 65535).") from exc
    if not all("\x21" <= character <= "\x7e" for character in url):
        raise UnsafeURL(
            "Give the URL in printable ASCII, without spaces: percent-encode other "
            "characters, and give a host in its IDNA (xn--) form."
        )
    port = _port(parts) or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"{host} does not resolve.") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        addresses.append(address)
    for address in addresses:
        problem = _problem(address)
        if problem is not None:
            raise UnsafeURL(f"{host} resolves to {address}, {problem}.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(addresses[0]))
