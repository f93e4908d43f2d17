"""The server-side request forgery guard for webhook URLs.

A webhook URL must not lead remag's workers into the deployment's own network: a URL
whose host resolves to a private, loopback, link-local, multicast, reserved or otherwise
non-global address is refused, unless that address is in
``REMAG_WEBHOOK_ALLOWED_NETWORKS``. The check runs when an endpoint is created or
changed and again at every delivery (DNS can change), and the delivery then connects to
the very address that was checked, so a second lookup cannot swap it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

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


def _allowed(address: IPAddress) -> bool:
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.REMAG_WEBHOOK_ALLOWED_NETWORKS]


def check_url(url: str) -> Target:
    """Resolve ``url``'s host and return where to connect, or raise :class:`UnsafeURL`."""
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
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("The URL's port is not valid.") from exc
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
        kind = _kind(address)
        if kind is not None and not _allowed(address):
            raise UnsafeURL(f"{host} resolves to {address}, a {kind} address.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(addresses[0]))
