"""Checks a URL a user typed, and every address the console connects to (SSRF guard).

The console makes requests to addresses that users type, so link-local and cloud-metadata
addresses are always refused; private ranges stay allowed for self-hosted servers; this machine
(loopback, and its own addresses: its eth0's 10.x, a container's 172.x reach the services
listening here just as 127.0.0.1 does) is refused unless ALLOW_LOOPBACK_URLS=1 (the tests and
local fakes set it). Plain http is allowed only for this machine.

Addresses are judged by the IPv4 address they carry when they are IPv6 wrappers of one
(IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
`2002::/16`, Teredo): Python's `ipaddress` calls `::ffff:127.0.0.1` neither loopback nor
private, and a NAT64 gateway would carry `64:ff9b::a9fe:a9fe` to 169.254.169.254. Host names
are compared without their trailing dot (`metadata.google.internal.` is the same host).

`check_url` judges what the user typed (an early, one-line error); `pinned_address` judges
what a name resolves to at connection time and returns the address to connect to, which is
how importers/outbound.py stops a name that resolves differently the second time (DNS
rebinding) from reaching an address that was never checked.
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

METADATA_HOSTS = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                  "instance-data.ec2.internal"}
METADATA_ADDRESSES = {"169.254.169.254", "fd00:ec2::254", "100.100.100.200"}  # AWS/GCP/Azure, AWS IPv6, Alibaba
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]


def loopback_allowed() -> bool:
    return os.environ.get("ALLOW_LOOPBACK_URLS", "").strip().lower() in {"1", "true", "yes"}


def normalise_host(host: str) -> str:
    """Lower case, without IPv6 brackets, without the trailing dot(s) of a fully qualified name."""
    return host.strip().strip("[]").lower().rstrip(".")


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host:port` of a URL, lower case, the port spelt out ("HTTPS://Acme.example./x" ->
    "https://acme.example:443"); a value without a scheme is read as https. None for an empty or unreadable one.
    Two settings reach the same server exactly when their origins are equal."""
    text = (url or "").strip()
    if not text:
        return None
    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = normalise_host(parts.hostname or "")
    if not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or DEFAULT_PORTS.get(scheme, 0)}"


def unwrap(address: Address) -> Address:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo), or itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    return address


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def resolve(host: str, port: int | None = None, resolver: Resolver = socket.getaddrinfo) -> list[Address]:
    """Every address `host` stands for (itself when it is a literal); [] when it does not resolve."""
    literal = _literal(normalise_host(host))
    if literal is not None:
        return [literal]
    try:
        infos = resolver(normalise_host(host), port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def on_this_machine(address: Address) -> bool:
    """Loopback, or one of this machine's own addresses. An address is this machine's when a socket can be bound
    to it: the kernel's own answer, for every interface and alias, without listing them (a host that lets
    programs bind any address, net.ipv4.ip_nonlocal_bind=1, would have every address called its own)."""
    seen = unwrap(address)
    if seen.is_loopback:
        return True
    try:
        with socket.socket(socket.AF_INET if seen.version == 4 else socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind((str(seen), 0))
    except OSError:  # EADDRNOTAVAIL: another machine's (or no IPv6 here)
        return False
    return True


def refusal(address: Address, host: str, setting: str) -> str | None:
    """Why the console must not connect to `address` (reached as `host`), or None when it may."""
    seen = unwrap(address)
    shown = f"{address}" if seen == address else f"{address}, which is {seen}"
    if seen.is_link_local or str(seen) in METADATA_ADDRESSES or str(address) in METADATA_ADDRESSES:
        return f"{setting} points at a link-local address ({shown}); that address is never allowed"
    if seen.is_unspecified or seen.is_multicast:
        return f"{setting} is not a server address ({shown})"
    if not loopback_allowed() and on_this_machine(seen):
        where = shown if normalise_host(host) == str(address) else f"{host}: {shown}"  # never "127.0.0.1: 127.0.0.1"
        return f"{setting} points at this machine ({where}); set ALLOW_LOOPBACK_URLS=1 to allow it"
    return None


def has_userinfo(url: str) -> bool:
    """Whether `url` carries a user name or password before its host (`user:password@host`), told without parsing
    it: a URL that urlsplit refuses, or one without a scheme, may carry one too."""
    rest = url.split("://", 1)[1] if "://" in url else url
    return "@" in re.split(r"[/?#]", rest, maxsplit=1)[0]


def check_url(url: str, setting: str, *, secret: str = "", field: str | None = None,
              places: Mapping[str, str] | None = None) -> str:
    """Return the URL without a trailing slash, or raise ConfigError naming `setting` (with `places`, naming
    the input by where the message is shown: the variable, the API body's `field`, the form's label).

    A user name or password in it is refused, and the URL never quoted then: a server URL is a public setting,
    kept in the clear with a job and shown in its reasons, so a password typed into it reached every reader of
    the job list. `secret` names the settings the secret goes in instead (the source's token or password)."""
    at = "{at}" if places else setting

    def refused(message: str) -> ConfigError:
        return ConfigError(message, field=field, places=places)

    url = (url or "").strip()
    if not url:
        raise refused(f"{at} is empty: set it to the server's address, e.g. https://example.com")
    if has_userinfo(url):
        raise refused(f"{at} must not hold a user name or password (user:password@): give the server's address "
                      f"only, e.g. https://example.com, and put the secret in {secret or 'its own setting'}")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. "https://[" : an unclosed IPv6 bracket
        hostname = None
    if not hostname or parts.scheme not in ("http", "https"):
        raise refused(f"{at} must be an http(s) URL such as https://example.com, not {url[:80]!r}")
    host = normalise_host(hostname)
    if host in METADATA_HOSTS:
        raise refused(f"{at} points at a cloud metadata service ({host}); that address is never allowed")
    addresses = resolve(host)
    for address in addresses:
        reason = refusal(address, host, at)
        if reason:
            raise refused(reason)
    if parts.scheme == "http" and not (addresses and all(on_this_machine(a) for a in addresses)):
        raise refused(f"{at} must use https:// (plain http is only allowed for this machine)")
    return url.rstrip("/")


def pinned_address(host: str, port: int | None, setting: str, resolver: Resolver = socket.getaddrinfo) -> str:
    """The address to connect to for `host`: resolved once, every address it resolves to checked.

    Raises ConfigError when any of them is refused (a name that also resolves to a metadata
    address is not trusted for its other ones), OSError when the name does not resolve.
    Returns an IP literal (IPv6 in brackets, as a URL host).
    """
    name = normalise_host(host)
    if name in METADATA_HOSTS:
        raise ConfigError(f"{setting} points at a cloud metadata service ({name}); that address is never allowed")
    addresses = resolve(name, port, resolver)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"cannot resolve {name}")
    for address in addresses:
        reason = refusal(address, name, setting)
        if reason:
            raise ConfigError(reason)
    first = addresses[0]
    return f"[{first}]" if first.version == 6 else str(first)
