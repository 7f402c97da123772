"""Typed errors a source raises. Each message names the tool and what the user should fix."""
from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError


class SourceError(Exception):
    """Base for expected failures: shown as one line, never as a traceback."""

    kind = "error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the one input to fix, when one is at fault (the HTTP API's 400 names it)

    def __str__(self) -> str:
        return self.message


class ConfigError(SourceError):
    """A setting is missing or malformed (URL, instance name, project)."""

    kind = "config"


class ConflictError(ConfigError):
    """The job is not in a state that allows the action (cancel a finished job, undo twice)."""

    kind = "conflict"


class AuthError(SourceError):
    """The tool refused the credentials."""

    kind = "auth"


class NotFoundError(SourceError):
    """A project or endpoint does not exist, or the account cannot see it."""

    kind = "not_found"


class NetworkError(SourceError):
    """The tool could not be reached, or answered something that is not its API."""

    kind = "network"


class RateLimitedError(SourceError):
    """The tool's rate limit outlasts what we are willing to wait; resume after `until`."""

    kind = "rate_limited"

    def __init__(self, message: str, until: datetime | None = None):
        super().__init__(message)
        self.until = until


def validation_reason(exc: ValidationError, whole: str = "item") -> str:
    """A failed item's reason in a person's words, from pydantic's errors: "title is empty" (never
    "title: Value error, title is empty"); the field is named only when the message does not name it,
    e.g. "priority: Input should be a valid string". `whole` names an error about the whole item."""
    reasons = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        field = ".".join(map(str, error["loc"]))
        reasons.append(message if field and field.split(".")[-1] in message else f"{field or whole}: {message}")
    return "; ".join(reasons)[:500]
