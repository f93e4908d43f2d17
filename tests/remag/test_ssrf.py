"""The webhook SSRF guard and IPv6 addresses that embed an IPv4 one, and ports."""

from typing import Any

import pytest

from remag.webhooks import ssrf


@pytest.fixture(autouse=True)
def nothing_allowed(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOW_HTTP = False
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    "host",
    [
        # 6to4 (2002::/16) embedding loopback, link-local, private, unspecified addresses
        "[2002:7f00:1::]",
        "[2002:a9fe:a9fe::]",
        "[2002:a00:1::]",
        "[2002:c0a8:1::1]",
        "[2002::]",
        # Teredo (2001::/32): server 127.0.0.1 or an obfuscated private client address
        "[2001:0:7f00:1::]",
        "[2001:0:4136:e378:8000:63bf:f5ff:fefe]",  # client 10.0.1.1
        # IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96)
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:a00:1]",
        "[::127.0.0.1]",
        "[::10.0.0.1]",
        "[::169.254.169.254]",
        # NAT64: the well-known prefix (64:ff9b::/96) and the local-use one (64:ff9b:1::/48)
        "[64:ff9b::7f00:1]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b::10.1.2.3]",
        "[64:ff9b::192.168.0.1]",
        "[64:ff9b:1::a00:1]",
        "[64:ff9b:1::8.8.8.8]",
        "[64:ff9b:1:a00:1::]",
    ],
)
def test_addresses_embedding_non_public_ipv4_are_refused(host: str) -> None:
    with pytest.raises(ssrf.UnsafeURL, match="address"):
        ssrf.check_url(f"https://{host}/hook")


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8:0/",
        "https://8.8.8.8:00/",
        "https://8.8.8.8:65536/",
        "https://8.8.8.8:99999/",
        "https://8.8.8.8:-1/",
        "https://8.8.8.8:+443/",
        "https://8.8.8.8: 443/",
        "https://8.8.8.8:4_43/",
        "https://8.8.8.8:443a/",
        "https://8.8.8.8:\u0664\u0664\u0663/",  # Arabic-Indic digits
        "https://[2606:4700:4700::1111]:0/",
    ],
)
def test_ports_outside_1_to_65535_are_refused(url: str) -> None:
    with pytest.raises(ssrf.UnsafeURL, match="port"):
        ssrf.check_url(url)


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("https://8.8.8.8/", 443),
        ("https://8.8.8.8:/", 443),
        ("https://8.8.8.8:1/", 1),
        ("https://8.8.8.8:65535/", 65535),
        ("https://[2606:4700:4700::1111]:8443/", 8443),
    ],
)
def test_ports_in_range_are_kept(url: str, port: int) -> None:
    assert ssrf.check_url(url).port == port


@pytest.mark.parametrize(
    "host",
    [
        "[2002:808:808::]",  # 6to4 of a public address
        "[64:ff9b::808:808]",  # NAT64 of a public address
        "[::ffff:8.8.8.8]",
        "[2606:4700:4700::1111]",
    ],
)
def test_addresses_embedding_public_ipv4_pass(host: str) -> None:
    assert ssrf.check_url(f"https://{host}/hook")


def test_the_allow_list_covers_embedded_addresses(settings: Any) -> None:
    settings.REMAG_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]

    assert ssrf.check_url("https://[::ffff:10.20.1.1]/hook").address == "10.20.1.1"
    assert ssrf.check_url("https://[64:ff9b::10.20.1.1]/hook")
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url("https://[64:ff9b::10.21.1.1]/hook")
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url("https://[2002:7f00:1::]/hook")
