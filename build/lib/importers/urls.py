"""Checks a URL a user typed before the console fetches it (SSRF guard).

The console makes requests to addresses that users type, so link-local and cloud-metadata
addresses are always refused; private ranges stay allowed for self-hosted servers; loopback
is refused unless ALLOW_LOOPBACK_URLS=1 (the tests and local fakes set it). Plain http is
allowed only for loopback.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from .errors import ConfigError

METADATA_HOSTS = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                  "instance-data.ec2.internal"}


def loopback_allowed() -> bool:
    return os.environ.get("ALLOW_LOOPBACK_URLS", "").strip().lower() in {"1", "true", "yes"}


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return []  # unresolvable: the connection test reports it as unreachable
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_url(url: str, setting: str) -> str:
    """Return the URL without a trailing slash, or raise ConfigError naming `setting`."""
    url = (url or "").strip()
    if not url:
        raise ConfigError(f"{setting} is empty: set it to the server's address, e.g. https://example.com")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. "https://[" : an unclosed IPv6 bracket
        hostname = None
    if not hostname or parts.scheme not in ("http", "https"):
        raise ConfigError(f"{setting} must be an http(s) URL such as https://example.com, not {url[:80]!r}")
    host = hostname.lower()
    if host in METADATA_HOSTS:
        raise ConfigError(f"{setting} points at a cloud metadata service ({host}); that address is never allowed")
    addresses = _addresses(host)
    for address in addresses:
        if address.is_link_local or str(address) in {"169.254.169.254", "fd00:ec2::254"}:
            raise ConfigError(f"{setting} points at a link-local address ({address}); that address is never allowed")
        if address.is_loopback and not loopback_allowed():
            raise ConfigError(f"{setting} points at this machine ({host}); set ALLOW_LOOPBACK_URLS=1 to allow it")
        if address.is_unspecified or address.is_multicast:
            raise ConfigError(f"{setting} is not a server address ({address})")
    is_loopback = bool(addresses) and all(a.is_loopback for a in addresses)
    if parts.scheme == "http" and not is_loopback:
        raise ConfigError(f"{setting} must use https:// (plain http is only allowed for this machine)")
    return url.rstrip("/")
