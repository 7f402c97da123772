"""Who may use the console: Streamlit's OIDC login, a local admin password, or open demo mode.

The console imports data with credentials that can read a whole company's tracker, so it asks
for a sign-in unless it was explicitly started in open demo mode (CONSOLE_OPEN_DEMO=1).

- OIDC: configure an `[auth]` section in .streamlit/secrets.toml (see secrets.toml.example);
  the sign-in page then offers `st.login()`.
- Local admin password, for a single-team install: only a salted scrypt hash is kept, in
  CONSOLE_ADMIN_PASSWORD_HASH (.env) or `[console] admin_password_hash` in secrets.toml.
  Set it with `python -m console.auth set-password`. Comparison is constant-time; failures
  slow down the client making them (`Throttle`: a browser session that keeps failing must wait;
  attempts from an address that keeps failing are held a little before they are checked), so no
  one can lock the admin out by failing on purpose, not even from the same address. A successful sign-in
  sets a signed session cookie (console/session.py), so a reload keeps the user signed in.

This module is also a small command line tool:
    python -m console.auth set-password [--env-file .env]   # prompts twice, writes the hash
    python -m console.auth hash                              # prints a hash for secrets.toml
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HASH_ENV = "CONSOLE_ADMIN_PASSWORD_HASH"
OPEN_DEMO_ENV = "CONSOLE_OPEN_DEMO"
ADMIN_USER = "admin"
SESSION_FREE = 3  # failed attempts a browser session makes before it has to wait
ADDRESS_FREE = 10  # failed attempts from one address (all its sessions) before it has to wait
MAX_DELAY = 300.0  # the longest wait, in seconds (the delay doubles from 1 s)
ADDRESS_HOLD = 10.0  # the longest an attempt from a failing address is held before it is checked, in seconds
MAX_TRACKED = 10_000  # sessions and addresses remembered before expired ones are forgotten
MIN_PASSWORD_LENGTH = 12
# scrypt cost: n=2**15, r=8, p=1 takes ~50-100 ms and 32 MiB, slow enough to make guessing expensive.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
ROOT = Path(__file__).resolve().parent.parent


# -- hashing -------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`: a fresh random salt every time."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison of `password` against a `hash_password` string."""
    try:
        scheme, n, r, p, salt, digest = stored.strip().split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# -- throttle ------------------------------------------------------------------------------
class Throttle:
    """Failed sign-ins slow down the client that makes them, never lock out everyone.

    Each failure counts against the browser session and against the client's address. After
    `free` failures a key has a delay, 1 s doubling each time up to `max_delay`; a success clears
    the session's and the address's count. A session in its delay is refused (someone guessing in
    one browser). An address in its delay only holds each attempt, at most `hold` seconds, before
    checking it: an attacker who opens fresh sessions is slowed, while the admin in another browser
    behind the same address (a NAT, a reverse proxy, or loopback, which Streamlit reports as no
    address at all) still gets in.
    """

    def __init__(self, session_free: int = SESSION_FREE, address_free: int = ADDRESS_FREE,
                 max_delay: float = MAX_DELAY, hold: float = ADDRESS_HOLD, clock=time.monotonic,
                 sleep=time.sleep):
        self.free = {"session": session_free, "address": address_free}
        self.max_delay = max_delay
        self.hold = hold
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}

    @staticmethod
    def _keys(session: str, address: str) -> list[tuple[str, str]]:
        return [("session", f"s:{session}"), ("address", f"a:{address}")]

    def _remaining(self, key: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(key, 0.0) - self.clock())

    def wait(self, session: str) -> float:
        """Seconds this browser session must still wait before its next attempt (0: it may try now)."""
        return self._remaining(f"s:{session}")

    def hold_attempt(self, address: str) -> None:
        """Hold an attempt from `address` while the address is in its delay, `hold` seconds at most."""
        held = min(self.hold, self._remaining(f"a:{address}"))
        if held > 0:
            self.sleep(held)

    def failed(self, session: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > MAX_TRACKED:  # bounded memory: forget keys whose delay has passed
                for key in [k for k, until in self._until.items() if until <= now]:
                    self._failures.pop(key, None)
                    self._until.pop(key, None)
            for kind, key in self._keys(session, address):
                count = self._failures.get(key, 0) + 1
                self._failures[key] = count
                if count > self.free[kind]:
                    self._until[key] = now + min(self.max_delay, 2.0 ** (count - self.free[kind] - 1))

    def succeeded(self, session: str, address: str) -> None:
        with self._lock:
            for _, key in self._keys(session, address):
                self._failures.pop(key, None)
                self._until.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._until.clear()


THROTTLE = Throttle()


# -- configuration ------------------------------------------------------------------------
def open_demo() -> bool:
    return os.environ.get(OPEN_DEMO_ENV, "").strip().lower() in {"1", "true", "yes"}


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (also written as an IPv4-mapped IPv6 address)."""
    try:
        address = ipaddress.ip_address((host or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def open_demo_serves(address: str | None) -> bool:
    """Whether open demo mode (no sign-in, admin rights) may serve a browser at `address`: this machine only.
    None is how Streamlit names a loopback client (`st.context.ip_address`), and also a run with no browser
    behind it (AppTest). Binding 127.0.0.1 is not enough: a reverse proxy on this machine, or a container's
    published port, hands the network's browsers over from a local address, with their own in X-Forwarded-For."""
    return address is None or is_loopback(address)


def _secrets_section(name: str) -> dict:
    try:
        import streamlit as st

        return dict(st.secrets.get(name) or {})
    except Exception:  # no secrets.toml, or outside Streamlit
        return {}


def admin_hash() -> str | None:
    value = os.environ.get(HASH_ENV) or _secrets_section("console").get("admin_password_hash") or ""
    return value.strip() or None


def oidc_configured() -> bool:
    """True when secrets.toml has an [auth] section that st.login can use."""
    auth = _secrets_section("auth")
    return bool(auth.get("redirect_uri") and auth.get("cookie_secret"))


@dataclass
class SignInResult:
    ok: bool
    message: str = ""


def sign_in(password: str, stored: str | None = None, *, session: str = "", address: str = "",
            throttle: Throttle = THROTTLE) -> SignInResult:
    """Check the admin password for one client (`session`: the browser session's id, `address`: its IP).

    A browser session that failed too often is told how long to wait, without its password being
    checked; an attempt from an address that failed too often is held a few seconds, then checked."""
    stored = stored or admin_hash()
    if not stored:
        return SignInResult(False, "No admin password is configured on this server.")
    wait = throttle.wait(session)
    if wait > 0:
        return SignInResult(False, f"Too many failed attempts from this browser: wait {wait:.0f} s and try again.")
    throttle.hold_attempt(address)
    if verify_password(password or "", stored):
        throttle.succeeded(session, address)
        return SignInResult(True)
    throttle.failed(session, address)
    wait = throttle.wait(session)
    if wait > 0:
        return SignInResult(False, f"Wrong password. Too many failed attempts: wait {wait:.0f} s before the next one.")
    return SignInResult(False, "Wrong password.")


# -- command line ------------------------------------------------------------------------
def write_env_value(path: Path, name: str, value: str) -> None:
    """Set NAME=value in a .env file, replacing an existing line and keeping the others."""
    lines = path.read_text().splitlines() if path.exists() else []
    lines = [line for line in lines if not line.strip().startswith(f"{name}=")]
    lines.append(f"{name}='{value}'")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def _read_new_password() -> str:
    if not sys.stdin.isatty():  # scripts: one line on stdin
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New admin password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("the two passwords differ: nothing changed")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.auth", description="Console sign-in settings.")
    sub = parser.add_subparsers(dest="command", required=True)
    setp = sub.add_parser("set-password", help="set the local admin password (stores a scrypt hash in .env)")
    setp.add_argument("--env-file", default=str(ROOT / ".env"), help="where to write it (default: .env)")
    sub.add_parser("hash", help="print a hash for `[console] admin_password_hash` in secrets.toml")
    args = parser.parse_args(argv)
    password = _read_new_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"the password must have at least {MIN_PASSWORD_LENGTH} characters: nothing changed", file=sys.stderr)
        return 2
    value = hash_password(password)
    if args.command == "hash":
        print(value)
        return 0
    write_env_value(Path(args.env_file), HASH_ENV, value)
    print(f"admin password set ({HASH_ENV} in {args.env_file}); restart the console and sign in as {ADMIN_USER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
