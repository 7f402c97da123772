"""Vendor error text without our secrets, before it reaches a message, a log, the store or a page.

A vendor (or a proxy in front of it) may echo the request back in its error text: a 400 quoting
the `Authorization` header carries `Basic base64(email:token)`, a GitLab proxy may quote
`PRIVATE-TOKEN`. Every request of every connector goes through importers/retry.py, which passes the
message of every error and wait reason it lets out through the source's `Redactor`: one place for
all four connectors.
"""
from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would shred ordinary words; no real token is that short


def _b64(text: str) -> list[str]:
    encoded = base64.b64encode(text.encode()).decode()
    return [encoded, encoded.rstrip("="), base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")]


class Redactor:
    """Replaces each secret, its URL-encoded form, and the Basic encodings `base64(secret)` and
    `base64(name:secret)` for each of `names` (the account names a Basic header pairs it with)."""

    def __init__(self, secrets: Iterable[str], names: Iterable[str] = ()):
        needles: set[str] = set()
        pairs = ["", *[n for n in names if n]]
        for secret in (s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH):
            needles.update((secret, quote(secret, safe=""), quote(secret)))
            for name in pairs:
                needles.update(_b64(f"{name}:{secret}" if name else secret))
        self._needles = sorted(needles, key=len, reverse=True)  # longest first: no partial leftovers

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, REDACTED)
        return text


def nothing(text: str) -> str:
    """The redactor of a policy that knows no secrets."""
    return text
